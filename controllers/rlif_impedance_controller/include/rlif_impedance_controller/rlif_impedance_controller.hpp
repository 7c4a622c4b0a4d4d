// ros2_control shell of the RLIF Cartesian impedance controller: parameters, topics, interfaces,
// franka's collision behaviour. The control law is impedance_law.hpp (no ROS, tested in CI);
// this shell is built only in the robot image (docker/robot.Dockerfile).
//
// Topics (relative to the controller's node, e.g. /rlif_impedance_controller/...):
//   ~/equilibrium_pose  geometry_msgs/PoseStamped in <robot_type>_link0: the Cartesian target
//   ~/joint_target      sensor_msgs/JointState (7 positions): homing, joint mode until the next pose
// A refused target (not finite, degenerate quaternion, outside the safety box, wrong frame) is
// logged (throttled) and never applied: the last accepted target is held.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <controller_interface/controller_interface.hpp>
#include <franka_semantic_components/franka_robot_model.hpp>
#include <geometry_msgs/msg/pose_stamped.hpp>
#include <rclcpp/rclcpp.hpp>
#include <realtime_tools/realtime_buffer.hpp>
#include <sensor_msgs/msg/joint_state.hpp>

#include "rlif_impedance_controller/impedance_law.hpp"

namespace rlif_impedance_controller {

using CallbackReturn = controller_interface::CallbackReturn;

struct TargetMessage {
  bool joint = false;     // joint target (homing) or pose target
  unsigned long seq = 0;  // changes with every accepted message
  Vector3 position = Vector3::Zero();
  Quaternion orientation = Quaternion::Identity();
  Vector7 q = Vector7::Zero();
};

class RlifImpedanceController : public controller_interface::ControllerInterface {
 public:
  controller_interface::InterfaceConfiguration command_interface_configuration() const override;
  controller_interface::InterfaceConfiguration state_interface_configuration() const override;
  controller_interface::return_type update(const rclcpp::Time& time, const rclcpp::Duration& period) override;
  CallbackReturn on_init() override;
  CallbackReturn on_configure(const rclcpp_lifecycle::State& previous_state) override;
  CallbackReturn on_activate(const rclcpp_lifecycle::State& previous_state) override;
  CallbackReturn on_deactivate(const rclcpp_lifecycle::State& previous_state) override;

 private:
  std::string read_params(Params* out);
  bool set_collision_behavior(const Params& p);
  RobotState read_state();
  void on_pose(const geometry_msgs::msg::PoseStamped::SharedPtr msg);
  void on_joints(const sensor_msgs::msg::JointState::SharedPtr msg);

  std::string robot_type_;
  std::unique_ptr<ImpedanceLaw> law_;
  std::unique_ptr<franka_semantic_components::FrankaRobotModel> model_;
  realtime_tools::RealtimeBuffer<TargetMessage> target_buffer_;
  std::atomic<unsigned long> seq_{0};
  unsigned long applied_seq_ = 0;
  rclcpp::Subscription<geometry_msgs::msg::PoseStamped>::SharedPtr pose_sub_;
  rclcpp::Subscription<sensor_msgs::msg::JointState>::SharedPtr joint_sub_;
};

}  // namespace rlif_impedance_controller
