// The control law of the RLIF Cartesian impedance controller (Eigen only, no ROS).
//
// Cartesian mode (the cell's): the target is the equilibrium pose the Franka bridge publishes.
//  1. A target that is not finite, has a degenerate quaternion or lies outside the safety box is
//     refused (`check_target`): the last accepted target is held, the bad one is never applied.
//  2. Reference limiting (the twin's target rule, sim/cell.py): every cycle the reference is the
//     target moved to within `max_step_m` per nominal axis and `max_step_rad` of the MEASURED
//     pose, then clipped to the safety box; so pushing on the board can never wind up more than
//     stiffness x one step of force, whatever the target.
//  3. Wrench = the twin's servos exactly (sim/cell.py, sim/assets/scene.xml), in the nominal
//     (taught hole) axes:  F = Kt (p_ref - p) - Dt v,  tau = Kr (r_ref - r) - Dr w,  with r the
//     rotation vector of the orientation relative to the nominal one, each axis saturated at
//     `max_force_per_axis` / `max_torque_per_axis`. Torques = J^T wrench + a null-space posture
//     spring (towards the joints at activation or after homing) + Coriolis; franka adds gravity.
// Joint mode (homing): tau = Kq (q_ref - q) - Dq dq + Coriolis, q_ref = the joint target moved to
// within `max_joint_step_rad` of the measured joints. The newest command decides the mode: a joint
// target switches to joint mode, an accepted pose target back to Cartesian mode.
// Every mode: the commanded torque changes by at most `max_torque_rate` x dt per cycle. Without
// new messages the last target is held (a silent topic never moves the arm).
#pragma once

#include <algorithm>
#include <cmath>

#include "rlif_impedance_controller/params.hpp"

namespace rlif_impedance_controller {

using Matrix3 = Eigen::Matrix3d;
using Quaternion = Eigen::Quaterniond;
using Jacobian = Eigen::Matrix<double, 6, kJoints>;

constexpr double kBoxToleranceM = 1e-4;    // a target this far outside the box is still accepted (round trip), m
constexpr double kBoxToleranceRad = 1e-3;  // rad
constexpr double kPinvDamping = 0.2;       // damped pseudo-inverse of J^T for the null-space projector

enum class TargetStatus { kAccepted, kNonFinite, kDegenerateQuaternion, kOutsideBox };

inline const char* to_string(TargetStatus s) {
  switch (s) {
    case TargetStatus::kAccepted: return "accepted";
    case TargetStatus::kNonFinite: return "not finite";
    case TargetStatus::kDegenerateQuaternion: return "degenerate quaternion";
    case TargetStatus::kOutsideBox: return "outside the safety box";
  }
  return "?";
}

struct RobotState {
  Vector7 q = Vector7::Zero(), dq = Vector7::Zero();         // rad, rad/s
  Vector3 position = Vector3::Zero();                        // EE (peg tip) in the base frame, m
  Quaternion orientation = Quaternion::Identity();
  Jacobian jacobian = Jacobian::Zero();                      // zero Jacobian of the EE, base frame
  Vector7 coriolis = Vector7::Zero();                        // Nm
};

struct Pose {
  Vector3 position = Vector3::Zero();
  Matrix3 rotation = Matrix3::Identity();
};

struct Command {
  Vector7 tau = Vector7::Zero();   // desired joint torques without gravity, Nm
  Vector6 wrench = Vector6::Zero();  // Cartesian mode: force (N) and torque (Nm), base frame
  Pose reference;                  // Cartesian mode: the limited reference pose
  bool joint_mode = false;
};

inline Vector3 rotvec(const Matrix3& r) {
  Eigen::AngleAxisd aa(r);
  return aa.axis() * aa.angle();
}

inline Matrix3 exp_rotvec(const Vector3& v) {
  const double a = v.norm();
  return a < 1e-12 ? Matrix3::Identity() : Eigen::AngleAxisd(a, v / a).toRotationMatrix();
}

class ImpedanceLaw {
 public:
  explicit ImpedanceLaw(const Params& p) : p_(p), rn_(p.nominal_orientation.toRotationMatrix()) {}

  const Params& params() const { return p_; }

  // Hold where the arm is: target = measured pose, posture = measured joints, Cartesian mode.
  void activate(const RobotState& s) {
    target_ = {s.position, s.orientation.normalized().toRotationMatrix()};
    q_null_ = s.q;
    joint_target_ = s.q;
    tau_prev_.setZero();
    joint_mode_ = false;
  }

  // Pure check of an equilibrium pose (thread-safe: reads the parameters only).
  TargetStatus check_target(const Vector3& p, const Quaternion& q) const {
    if (!p.allFinite() || !q.coeffs().allFinite()) return TargetStatus::kNonFinite;
    if (q.coeffs().norm() < 1e-6) return TargetStatus::kDegenerateQuaternion;
    const Vector3 pn = rn_.transpose() * (p - p_.nominal_position);
    const Vector3 rn = rotvec(rn_.transpose() * q.normalized().toRotationMatrix());
    if ((pn.cwiseAbs() - p_.safety_box_m).maxCoeff() > kBoxToleranceM ||
        rn.norm() > p_.safety_box_rad + kBoxToleranceRad) {
      return TargetStatus::kOutsideBox;
    }
    return TargetStatus::kAccepted;
  }

  TargetStatus set_pose_target(const Vector3& p, const Quaternion& q) {
    const TargetStatus st = check_target(p, q);
    if (st != TargetStatus::kAccepted) return st;
    if (joint_mode_) q_null_ = joint_target_;  // after homing, the posture is the home configuration
    target_ = {p, q.normalized().toRotationMatrix()};
    joint_mode_ = false;
    return st;
  }

  bool set_joint_target(const Vector7& q) {
    if (!q.allFinite()) return false;
    joint_target_ = q;
    joint_mode_ = true;
    return true;
  }

  const Pose& target() const { return target_; }
  bool joint_mode() const { return joint_mode_; }

  // Step 2 of the header: the target limited around the measured pose, then clipped to the box.
  Pose limit_reference(const Pose& target, const Pose& measured) const {
    Pose ref;
    const Vector3 pt = to_nominal(target.position), pm = to_nominal(measured.position);
    const Vector3 step = Vector3::Constant(p_.max_step_m);
    Vector3 pr = pt.cwiseMax(pm - step).cwiseMin(pm + step);
    pr = pr.cwiseMax(-p_.safety_box_m).cwiseMin(p_.safety_box_m);
    ref.position = p_.nominal_position + rn_ * pr;
    Matrix3 r = target.rotation;
    const Vector3 err = rotvec(target.rotation * measured.rotation.transpose());
    if (err.norm() > p_.max_step_rad) {
      r = exp_rotvec(err * (p_.max_step_rad / err.norm())) * measured.rotation;
    }
    Vector3 rv = rotvec(rn_.transpose() * r);
    if (rv.norm() > p_.safety_box_rad) rv *= p_.safety_box_rad / rv.norm();
    ref.rotation = rn_ * exp_rotvec(rv);
    return ref;
  }

  // Step 3: the twin's impedance wrench (base frame) for a reference, a measured pose and twist.
  Vector6 task_wrench(const Pose& ref, const Pose& measured, const Vector6& twist) const {
    const Vector3 dp = to_nominal(ref.position) - to_nominal(measured.position);
    const Vector3 dr = rotvec(rn_.transpose() * ref.rotation) - rotvec(rn_.transpose() * measured.rotation);
    const Vector3 v = rn_.transpose() * twist.head<3>(), w = rn_.transpose() * twist.tail<3>();
    const Vector3 f = (p_.translational_stiffness * dp - p_.translational_damping * v)
                          .cwiseMax(-p_.max_force_per_axis).cwiseMin(p_.max_force_per_axis);
    const Vector3 t = (p_.rotational_stiffness * dr - p_.rotational_damping * w)
                          .cwiseMax(-p_.max_torque_per_axis).cwiseMin(p_.max_torque_per_axis);
    Vector6 out;
    out << rn_ * f, rn_ * t;
    return out;
  }

  Command update(const RobotState& s, double dt) {
    Command c;
    c.joint_mode = joint_mode_;
    Vector7 tau;
    if (joint_mode_) {
      const Vector7 step = Vector7::Constant(p_.max_joint_step_rad);
      const Vector7 q_ref = joint_target_.cwiseMax(s.q - step).cwiseMin(s.q + step);
      tau = p_.joint_stiffness.cwiseProduct(q_ref - s.q) - p_.joint_damping.cwiseProduct(s.dq) + s.coriolis;
    } else {
      const Pose measured{s.position, s.orientation.normalized().toRotationMatrix()};
      c.reference = limit_reference(target_, measured);
      c.wrench = task_wrench(c.reference, measured, s.jacobian * s.dq);
      tau = s.jacobian.transpose() * c.wrench + nullspace_torque(s) + s.coriolis;
    }
    const double max_delta = p_.max_torque_rate * std::max(dt, 0.0);
    tau = tau_prev_ + (tau - tau_prev_).cwiseMax(-max_delta).cwiseMin(max_delta);
    tau_prev_ = tau;
    c.tau = tau;
    return c;
  }

 private:
  Vector3 to_nominal(const Vector3& p) const { return rn_.transpose() * (p - p_.nominal_position); }

  Vector7 nullspace_torque(const RobotState& s) const {
    const Eigen::Matrix<double, kJoints, 6> jt = s.jacobian.transpose();
    const Eigen::JacobiSVD<Eigen::Matrix<double, kJoints, 6>> svd(jt, Eigen::ComputeFullU | Eigen::ComputeFullV);
    Eigen::Matrix<double, 6, kJoints> s_inv = Eigen::Matrix<double, 6, kJoints>::Zero();
    const auto sv = svd.singularValues();
    for (int i = 0; i < sv.size(); ++i) s_inv(i, i) = sv(i) / (sv(i) * sv(i) + kPinvDamping * kPinvDamping);
    const Eigen::Matrix<double, 6, kJoints> jt_pinv = svd.matrixV() * s_inv * svd.matrixU().transpose();
    const Eigen::Matrix<double, kJoints, kJoints> n = Eigen::Matrix<double, kJoints, kJoints>::Identity() - jt * jt_pinv;
    const double kn = p_.nullspace_stiffness;
    return n * (kn * (q_null_ - s.q) - 2.0 * std::sqrt(kn) * s.dq);
  }

  Params p_;
  Matrix3 rn_;
  Pose target_;
  Vector7 q_null_ = Vector7::Zero(), joint_target_ = Vector7::Zero(), tau_prev_ = Vector7::Zero();
  bool joint_mode_ = false;
};

}  // namespace rlif_impedance_controller
