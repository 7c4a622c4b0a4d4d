// See the header. Written against ros2_control (Jazzy) and franka_ros2's jazzy branch
// (franka_semantic_components::FrankaRobotModel, franka_msgs/srv/SetForceTorqueCollisionBehavior
// served by franka_hardware at /service_server/...). Built in the robot image only.
#include "rlif_impedance_controller/rlif_impedance_controller.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <franka/model.h>
#include <franka_msgs/srv/set_force_torque_collision_behavior.hpp>

namespace rlif_impedance_controller {

namespace {
const char* kModelInterface = "robot_model";   // franka_hardware: <robot_type>/robot_model
const char* kStateInterface = "robot_state";   // franka_hardware: <robot_type>/robot_state
const char* kCollisionService = "/service_server/set_force_torque_collision_behavior";
constexpr auto kServiceTimeout = std::chrono::seconds(5);
}  // namespace

CallbackReturn RlifImpedanceController::on_init() {
  try {
    auto_declare<std::string>("robot_type", "fr3");
    rcl_interfaces::msg::ParameterDescriptor any;
    any.dynamic_typing = true;  // a YAML "2000" (integer) is as good as "2000.0"
    for (const auto& s : param_specs()) {
      get_node()->declare_parameter(s.name, rclcpp::ParameterValue{}, any);  // no default: required
    }
  } catch (const std::exception& e) {
    fprintf(stderr, "rlif_impedance_controller: on_init failed: %s\n", e.what());
    return CallbackReturn::ERROR;
  }
  return CallbackReturn::SUCCESS;
}

std::string RlifImpedanceController::read_params(Params* out) {
  ParamMap map;
  for (const auto& s : param_specs()) {
    const rclcpp::Parameter p = get_node()->get_parameter(s.name);
    switch (p.get_type()) {
      case rclcpp::ParameterType::PARAMETER_DOUBLE: map[s.name] = {p.as_double()}; break;
      case rclcpp::ParameterType::PARAMETER_INTEGER: map[s.name] = {static_cast<double>(p.as_int())}; break;
      case rclcpp::ParameterType::PARAMETER_DOUBLE_ARRAY: map[s.name] = p.as_double_array(); break;
      case rclcpp::ParameterType::PARAMETER_INTEGER_ARRAY: {
        std::vector<double> v;
        for (auto x : p.as_integer_array()) v.push_back(static_cast<double>(x));
        map[s.name] = v;
        break;
      }
      case rclcpp::ParameterType::PARAMETER_NOT_SET: break;  // missing: parse_params names it
      default: return std::string("parameter '") + s.name + "' must be numbers, got " + p.value_to_string();
    }
  }
  return parse_params(map, out);
}

CallbackReturn RlifImpedanceController::on_configure(const rclcpp_lifecycle::State& /*previous_state*/) {
  robot_type_ = get_node()->get_parameter("robot_type").as_string();
  Params params;
  const std::string err = read_params(&params);
  if (!err.empty()) {
    RCLCPP_ERROR(get_node()->get_logger(), "refusing to configure: %s (controller YAML / rlif robot "
                 "controller-params)", err.c_str());
    return CallbackReturn::ERROR;
  }
  if (!set_collision_behavior(params)) return CallbackReturn::ERROR;
  law_ = std::make_unique<ImpedanceLaw>(params);
  model_ = std::make_unique<franka_semantic_components::FrankaRobotModel>(
      robot_type_ + "/" + kModelInterface, robot_type_ + "/" + kStateInterface);
  pose_sub_ = get_node()->create_subscription<geometry_msgs::msg::PoseStamped>(
      "~/equilibrium_pose", rclcpp::QoS(1),
      [this](const geometry_msgs::msg::PoseStamped::SharedPtr m) { on_pose(m); });
  joint_sub_ = get_node()->create_subscription<sensor_msgs::msg::JointState>(
      "~/joint_target", rclcpp::QoS(1),
      [this](const sensor_msgs::msg::JointState::SharedPtr m) { on_joints(m); });
  RCLCPP_INFO(get_node()->get_logger(), "configured: K %.0f N/m %.0f Nm/rad, D %.1f N s/m %.1f Nm s/rad, "
              "step %.3f m %.3f rad, box +-%.3f +-%.3f +-%.3f m %.2f rad",
              params.translational_stiffness, params.rotational_stiffness, params.translational_damping,
              params.rotational_damping, params.max_step_m, params.max_step_rad, params.safety_box_m.x(),
              params.safety_box_m.y(), params.safety_box_m.z(), params.safety_box_rad);
  return CallbackReturn::SUCCESS;
}

// franka's reflex thresholds, set before any motion (libfranka refuses them while one runs):
// above the cell's force abort, so the bridge re-anchors the target before franka stops the arm.
bool RlifImpedanceController::set_collision_behavior(const Params& p) {
  using Srv = franka_msgs::srv::SetForceTorqueCollisionBehavior;
  auto client = get_node()->create_client<Srv>(kCollisionService);
  if (!client->wait_for_service(kServiceTimeout)) {
    RCLCPP_ERROR(get_node()->get_logger(), "refusing to configure: %s not available (is franka_hardware "
                 "running with a real robot?)", kCollisionService);
    return false;
  }
  auto req = std::make_shared<Srv::Request>();
  for (int i = 0; i < kJoints; ++i) {
    req->lower_torque_thresholds_nominal[i] = req->upper_torque_thresholds_nominal[i] = p.collision_joint_torque(i);
  }
  for (int i = 0; i < 6; ++i) {
    req->lower_force_thresholds_nominal[i] = req->upper_force_thresholds_nominal[i] = p.collision_wrench(i);
  }
  auto future = client->async_send_request(req);
  if (future.wait_for(kServiceTimeout) != std::future_status::ready) {
    RCLCPP_ERROR(get_node()->get_logger(), "refusing to configure: no answer from %s", kCollisionService);
    return false;
  }
  const auto res = future.get();
  if (!res->success) {
    RCLCPP_ERROR(get_node()->get_logger(), "refusing to configure: franka rejected the collision behaviour: %s",
                 res->error.c_str());
    return false;
  }
  RCLCPP_INFO(get_node()->get_logger(), "collision behaviour set: force %.0f N, torque %.0f Nm per axis",
              p.collision_wrench(0), p.collision_wrench(3));
  return true;
}

controller_interface::InterfaceConfiguration RlifImpedanceController::command_interface_configuration() const {
  controller_interface::InterfaceConfiguration c;
  c.type = controller_interface::interface_configuration_type::INDIVIDUAL;
  for (int i = 1; i <= kJoints; ++i) c.names.push_back(robot_type_ + "_joint" + std::to_string(i) + "/effort");
  return c;
}

controller_interface::InterfaceConfiguration RlifImpedanceController::state_interface_configuration() const {
  controller_interface::InterfaceConfiguration c;
  c.type = controller_interface::interface_configuration_type::INDIVIDUAL;
  for (int i = 1; i <= kJoints; ++i) {  // (position, velocity) pairs first: read_state() indexes 2 i
    c.names.push_back(robot_type_ + "_joint" + std::to_string(i) + "/position");
    c.names.push_back(robot_type_ + "_joint" + std::to_string(i) + "/velocity");
  }
  for (const auto& name : model_->get_state_interface_names()) c.names.push_back(name);
  return c;
}

RobotState RlifImpedanceController::read_state() {
  RobotState s;
  for (int i = 0; i < kJoints; ++i) {
    s.q(i) = state_interfaces_.at(2 * i).get_optional().value();
    s.dq(i) = state_interfaces_.at(2 * i + 1).get_optional().value();
  }
  const std::array<double, 16> pose = model_->getPoseMatrix(franka::Frame::kEndEffector);
  const Eigen::Map<const Eigen::Matrix4d> t(pose.data());  // column-major
  s.position = t.block<3, 1>(0, 3);
  s.orientation = Quaternion(Matrix3(t.block<3, 3>(0, 0))).normalized();
  const std::array<double, 42> jac = model_->getZeroJacobian(franka::Frame::kEndEffector);
  s.jacobian = Eigen::Map<const Jacobian>(jac.data());
  const std::array<double, 7> cor = model_->getCoriolisForceVector();
  s.coriolis = Eigen::Map<const Vector7>(cor.data());
  return s;
}

CallbackReturn RlifImpedanceController::on_activate(const rclcpp_lifecycle::State& /*previous_state*/) {
  model_->assign_loaned_state_interfaces(state_interfaces_);
  law_->activate(read_state());  // hold where the arm is; older messages are not replayed
  applied_seq_ = seq_.load();
  return CallbackReturn::SUCCESS;
}

CallbackReturn RlifImpedanceController::on_deactivate(const rclcpp_lifecycle::State& /*previous_state*/) {
  model_->release_interfaces();
  return CallbackReturn::SUCCESS;
}

controller_interface::return_type RlifImpedanceController::update(const rclcpp::Time& /*time*/,
                                                                  const rclcpp::Duration& period) {
  const TargetMessage* msg = target_buffer_.readFromRT();
  if (msg != nullptr && msg->seq != applied_seq_) {
    applied_seq_ = msg->seq;
    if (msg->joint) {
      law_->set_joint_target(msg->q);
    } else {
      law_->set_pose_target(msg->position, msg->orientation);  // checked in the callback already
    }
  }
  const Command cmd = law_->update(read_state(), period.seconds());
  for (int i = 0; i < kJoints; ++i) {
    if (!command_interfaces_[i].set_value(cmd.tau(i))) return controller_interface::return_type::ERROR;
  }
  return controller_interface::return_type::OK;
}

void RlifImpedanceController::on_pose(const geometry_msgs::msg::PoseStamped::SharedPtr msg) {
  const std::string base = robot_type_ + "_link0";
  if (!msg->header.frame_id.empty() && msg->header.frame_id != base) {
    RCLCPP_WARN_THROTTLE(get_node()->get_logger(), *get_node()->get_clock(), 2000,
                         "equilibrium pose in frame '%s' refused: expected '%s'", msg->header.frame_id.c_str(),
                         base.c_str());
    return;
  }
  TargetMessage t;
  const auto& p = msg->pose.position;
  const auto& o = msg->pose.orientation;
  t.position = Vector3(p.x, p.y, p.z);
  t.orientation = Quaternion(o.w, o.x, o.y, o.z);
  const TargetStatus st = law_->check_target(t.position, t.orientation);
  if (st != TargetStatus::kAccepted) {
    RCLCPP_WARN_THROTTLE(get_node()->get_logger(), *get_node()->get_clock(), 2000,
                         "equilibrium pose refused (%s): holding the last target", to_string(st));
    return;
  }
  t.orientation.normalize();
  t.seq = ++seq_;
  target_buffer_.writeFromNonRT(t);
}

void RlifImpedanceController::on_joints(const sensor_msgs::msg::JointState::SharedPtr msg) {
  if (msg->position.size() != static_cast<size_t>(kJoints)) {
    RCLCPP_WARN_THROTTLE(get_node()->get_logger(), *get_node()->get_clock(), 2000,
                         "joint target with %zu positions refused: expected %d", msg->position.size(), kJoints);
    return;
  }
  TargetMessage t;
  t.joint = true;
  for (int i = 0; i < kJoints; ++i) t.q(i) = msg->position[i];
  if (!t.q.allFinite()) {
    RCLCPP_WARN_THROTTLE(get_node()->get_logger(), *get_node()->get_clock(), 2000,
                         "joint target refused (not finite): holding");
    return;
  }
  t.seq = ++seq_;
  target_buffer_.writeFromNonRT(t);
}

}  // namespace rlif_impedance_controller

#include <pluginlib/class_list_macros.hpp>
PLUGINLIB_EXPORT_CLASS(rlif_impedance_controller::RlifImpedanceController,
                       controller_interface::ControllerInterface)
