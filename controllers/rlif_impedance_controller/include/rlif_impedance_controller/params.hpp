// Parameters of the RLIF Cartesian impedance controller: the one list (name, size, range, unit)
// that the ROS shell declares, the controller YAML must fill and `parse_params` checks.
// No ROS dependency: compiled and unit-tested in CI (test/), the plugin shell only in the robot image.
//
// Every parameter is required: a YAML that misses one, or gives a value out of its range, is
// refused at configure time with one line naming the parameter (the robot never runs on a
// default nobody chose). The cell-derived values (gains, steps, safety box, nominal pose,
// collision thresholds) are written from the run config by `rlif robot controller-params`.
#pragma once

#include <Eigen/Dense>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace rlif_impedance_controller {

constexpr int kJoints = 7;
using Vector3 = Eigen::Vector3d;
using Vector6 = Eigen::Matrix<double, 6, 1>;
using Vector7 = Eigen::Matrix<double, kJoints, 1>;

struct ParamSpec {
  const char* name;
  int size;     // 1 = a double, otherwise a double array of this length
  double min;   // every value in [min, max]
  double max;
  const char* unit;
};

// The parameter list (README "On the robot" has the meaning of each).
inline const std::vector<ParamSpec>& param_specs() {
  static const std::vector<ParamSpec> specs = {
      {"translational_stiffness", 1, 1.0, 5000.0, "N/m"},
      {"rotational_stiffness", 1, 0.1, 300.0, "Nm/rad"},
      {"translational_damping", 1, 0.0, 500.0, "N s/m"},
      {"rotational_damping", 1, 0.0, 50.0, "Nm s/rad"},
      {"max_force_per_axis", 1, 1.0, 200.0, "N"},
      {"max_torque_per_axis", 1, 0.1, 50.0, "Nm"},
      {"max_step_m", 1, 1e-4, 0.05, "m"},
      {"max_step_rad", 1, 1e-3, 0.5, "rad"},
      {"nominal_pose", 7, -10.0, 10.0, "m, quaternion x y z w"},
      {"safety_box_m", 3, 1e-3, 0.5, "m"},
      {"safety_box_rad", 1, 1e-3, 1.5, "rad"},
      {"nullspace_stiffness", 1, 0.0, 100.0, "Nm/rad"},
      {"max_torque_rate", 1, 1.0, 5000.0, "Nm/s"},
      {"joint_stiffness", kJoints, 0.0, 1000.0, "Nm/rad"},
      {"joint_damping", kJoints, 0.0, 100.0, "Nm s/rad"},
      {"max_joint_step_rad", 1, 1e-3, 0.5, "rad"},
      {"collision_wrench", 6, 1.0, 200.0, "N, Nm"},
      {"collision_joint_torque", kJoints, 1.0, 200.0, "Nm"},
  };
  return specs;
}

using ParamMap = std::map<std::string, std::vector<double>>;

struct Params {
  double translational_stiffness = 0, rotational_stiffness = 0;
  double translational_damping = 0, rotational_damping = 0;
  double max_force_per_axis = 0, max_torque_per_axis = 0;  // wrench saturation, nominal axes
  double max_step_m = 0, max_step_rad = 0;                  // reference limiting around the measured pose
  Vector3 nominal_position = Vector3::Zero();               // the taught hole pose (base frame)
  Eigen::Quaterniond nominal_orientation = Eigen::Quaterniond::Identity();
  Vector3 safety_box_m = Vector3::Zero();                   // half extents, nominal axes
  double safety_box_rad = 0;                                // max angle from the nominal orientation
  double nullspace_stiffness = 0;
  double max_torque_rate = 0;
  Vector7 joint_stiffness = Vector7::Zero(), joint_damping = Vector7::Zero();
  double max_joint_step_rad = 0;
  Vector6 collision_wrench = Vector6::Zero();               // libfranka reflex thresholds (upper)
  Vector7 collision_joint_torque = Vector7::Zero();
};

inline std::string describe(const ParamSpec& s) {
  std::ostringstream o;
  o << (s.size == 1 ? "a number" : std::to_string(s.size) + " numbers") << " in [" << s.min << ", "
    << s.max << "] " << s.unit;
  return o.str();
}

// Fills `out` from `in`; returns "" or a one-line reason naming the parameter.
inline std::string parse_params(const ParamMap& in, Params* out) {
  for (const auto& s : param_specs()) {
    auto it = in.find(s.name);
    const std::string name = std::string("parameter '") + s.name + "'";
    if (it == in.end()) {
      return name + " is missing: give " + describe(s);
    }
    const auto& v = it->second;
    if (static_cast<int>(v.size()) != s.size) {
      return name + " has " + std::to_string(v.size()) + " values: give " + describe(s);
    }
    for (double x : v) {
      if (!std::isfinite(x) || x < s.min || x > s.max) {
        std::ostringstream o;
        o << name << " = " << x << " is out of range: give " << describe(s);
        return o.str();
      }
    }
  }
  auto get = [&in](const char* n) { return in.at(n); };
  auto vec = [](const std::vector<double>& v, auto* dst) {
    for (int i = 0; i < static_cast<int>(v.size()); ++i) (*dst)(i) = v[i];
  };
  const auto pose = get("nominal_pose");
  const double qn = std::sqrt(pose[3] * pose[3] + pose[4] * pose[4] + pose[5] * pose[5] + pose[6] * pose[6]);
  if (std::abs(qn - 1.0) > 1e-3) {
    return "parameter 'nominal_pose': the quaternion (values 4-7, x y z w) must have unit norm, has " +
           std::to_string(qn);
  }
  Params p;
  p.translational_stiffness = get("translational_stiffness")[0];
  p.rotational_stiffness = get("rotational_stiffness")[0];
  p.translational_damping = get("translational_damping")[0];
  p.rotational_damping = get("rotational_damping")[0];
  p.max_force_per_axis = get("max_force_per_axis")[0];
  p.max_torque_per_axis = get("max_torque_per_axis")[0];
  p.max_step_m = get("max_step_m")[0];
  p.max_step_rad = get("max_step_rad")[0];
  p.nominal_position = Vector3(pose[0], pose[1], pose[2]);
  p.nominal_orientation = Eigen::Quaterniond(pose[6], pose[3], pose[4], pose[5]).normalized();
  vec(get("safety_box_m"), &p.safety_box_m);
  p.safety_box_rad = get("safety_box_rad")[0];
  p.nullspace_stiffness = get("nullspace_stiffness")[0];
  p.max_torque_rate = get("max_torque_rate")[0];
  vec(get("joint_stiffness"), &p.joint_stiffness);
  vec(get("joint_damping"), &p.joint_damping);
  p.max_joint_step_rad = get("max_joint_step_rad")[0];
  vec(get("collision_wrench"), &p.collision_wrench);
  vec(get("collision_joint_torque"), &p.collision_joint_torque);
  *out = p;
  return "";
}

}  // namespace rlif_impedance_controller
