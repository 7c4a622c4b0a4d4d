// Unit tests of the control law (no ROS, no gtest: plain checks) and a small CLI that pytest drives
// (tests/controllers/test_impedance_law.py):
//   test_impedance_law                      run the checks below; exit 1 on the first failure
//   test_impedance_law --list-params        one line per parameter: name size min max unit
//   test_impedance_law --check-params FILE  parse FILE ("name v1 v2 ..." lines): "ok" or the reason
//   test_impedance_law --wrench FILE        FILE = parameters; stdin: one case per line
//        measured pose (x y z qx qy qz qw), twist (vx vy vz wx wy wz), requested target pose (7)
//      stdout: status, then the wrench (6, base frame) and the reference pose (7), or "held ..."
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "rlif_impedance_controller/impedance_law.hpp"

using namespace rlif_impedance_controller;

namespace {

int g_checks = 0;

#define CHECK(cond, what)                                                      \
  do {                                                                         \
    ++g_checks;                                                                \
    if (!(cond)) {                                                             \
      std::cerr << "FAILED: " << what << " (" << #cond << ", line " << __LINE__ << ")\n"; \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

bool read_params(const std::string& path, ParamMap* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::string name;
    if (!(s >> name)) continue;
    std::vector<double> v;
    std::string tok;
    while (s >> tok) v.push_back(std::stod(tok));  // "nan" / "inf" parse too: the law must refuse them
    (*out)[name] = v;
  }
  return true;
}

ParamMap twin_params() {
  return {{"translational_stiffness", {2000}}, {"rotational_stiffness", {150}},
          {"translational_damping", {120}},   {"rotational_damping", {8}},
          {"max_force_per_axis", {100}},      {"max_torque_per_axis", {10}},
          {"max_step_m", {0.01}},             {"max_step_rad", {0.05}},
          {"nominal_pose", {0.5, 0.0, 0.1, 1.0, 0.0, 0.0, 0.0}},
          {"safety_box_m", {0.04, 0.04, 0.08}}, {"safety_box_rad", {0.3}},
          {"nullspace_stiffness", {10}},      {"max_torque_rate", {1000}},
          {"joint_stiffness", {600, 600, 600, 600, 250, 150, 50}},
          {"joint_damping", {30, 30, 30, 30, 10, 10, 5}}, {"max_joint_step_rad", {0.1}},
          {"collision_wrench", {80, 80, 80, 25, 25, 25}},
          {"collision_joint_torque", {70, 70, 70, 70, 25, 25, 20}}};
}

Params parsed(const ParamMap& m) {
  Params p;
  const std::string err = parse_params(m, &p);
  CHECK(err.empty(), "the twin's parameters parse: " + err);
  return p;
}

const Quaternion kDown(0.0, 1.0, 0.0, 0.0);  // w x y z: EE z pointing down (180 deg about x)

RobotState state_at(const Vector3& p, const Quaternion& q = kDown) {
  RobotState s;
  s.position = p;
  s.orientation = q;
  s.jacobian.setZero();
  s.jacobian.leftCols<6>().setIdentity();  // a simple full-rank J: joint i moves task axis i
  return s;
}

void test_params() {
  ParamMap m = twin_params();
  Params p;
  CHECK(parse_params(m, &p).empty(), "complete parameters parse");
  m.erase("translational_stiffness");
  std::string e = parse_params(m, &p);
  CHECK(e.find("'translational_stiffness' is missing") != std::string::npos, e);
  m = twin_params();
  m["rotational_damping"] = {-1};
  e = parse_params(m, &p);
  CHECK(e.find("'rotational_damping' = -1 is out of range") != std::string::npos, e);
  m = twin_params();
  m["translational_stiffness"] = {NAN};
  e = parse_params(m, &p);
  CHECK(e.find("'translational_stiffness' = nan") != std::string::npos, e);
  m = twin_params();
  m["joint_stiffness"] = {1, 2, 3};
  e = parse_params(m, &p);
  CHECK(e.find("'joint_stiffness' has 3 values") != std::string::npos, e);
  m = twin_params();
  m["nominal_pose"] = {0.5, 0, 0.1, 1, 1, 0, 0};
  e = parse_params(m, &p);
  CHECK(e.find("'nominal_pose': the quaternion") != std::string::npos, e);
}

void test_hold_at_activation_and_silence() {
  ImpedanceLaw law(parsed(twin_params()));
  RobotState s = state_at(Vector3(0.5, 0.0, 0.13));
  law.activate(s);
  Command c = law.update(s, 0.001);
  CHECK(c.wrench.norm() < 1e-9, "activation holds the measured pose: no wrench");
  for (int i = 0; i < 100; ++i) c = law.update(s, 0.001);  // no new target: the last is held
  CHECK((c.reference.position - s.position).norm() < 1e-12, "silence holds the last target");
}

void test_reference_limiting_and_damping() {
  ImpedanceLaw law(parsed(twin_params()));
  RobotState s = state_at(Vector3(0.5, 0.0, 0.13));
  law.activate(s);
  // a target 3 cm below (still in the box): the reference is one step (1 cm) below the measured pose
  CHECK(law.set_pose_target(Vector3(0.5, 0.0, 0.10), kDown) == TargetStatus::kAccepted, "in-box target");
  Command c = law.update(s, 0.001);
  CHECK(std::abs(c.reference.position.z() - 0.12) < 1e-12, "reference = one step from the measured pose");
  CHECK(std::abs(c.wrench(2) + 20.0) < 1e-9, "force = stiffness x one step (2000 N/m x 1 cm), downwards");
  CHECK(c.wrench.segment<2>(0).norm() < 1e-9 && c.wrench.tail<3>().norm() < 1e-9, "no other component");
  // moving up at 0.1 m/s adds -D v
  s.dq(2) = 0.1;  // J = I: task velocity z = 0.1 m/s
  c = law.update(s, 1.0);
  CHECK(std::abs(c.wrench(2) - (-20.0 - 12.0)) < 1e-9, "damping 120 N s/m opposes the motion");
  // rotation beyond one step is limited to max_step_rad
  s.dq.setZero();
  const Quaternion tilted(Eigen::AngleAxisd(0.2, Vector3::UnitY()) * kDown);
  CHECK(law.set_pose_target(s.position, tilted) == TargetStatus::kAccepted, "tilted target in the box");
  c = law.update(s, 1.0);
  const double angle = Eigen::AngleAxisd(c.reference.rotation * kDown.toRotationMatrix().transpose()).angle();
  CHECK(std::abs(angle - 0.05) < 1e-9, "rotation reference limited to 0.05 rad");
  CHECK(std::abs(c.wrench.tail<3>().norm() - 150 * 0.05) < 1e-6, "torque = 150 Nm/rad x 0.05 rad");
}

void test_bad_targets_are_held() {
  ImpedanceLaw law(parsed(twin_params()));
  RobotState s = state_at(Vector3(0.5, 0.0, 0.13));
  law.activate(s);
  CHECK(law.set_pose_target(Vector3(NAN, 0, 0.1), kDown) == TargetStatus::kNonFinite, "NaN refused");
  CHECK(law.set_pose_target(Vector3(0.5, 0, INFINITY), kDown) == TargetStatus::kNonFinite, "inf refused");
  CHECK(law.set_pose_target(Vector3(0.5, 0, 0.1), Quaternion(0, 0, 0, 0)) ==
            TargetStatus::kDegenerateQuaternion, "zero quaternion refused");
  CHECK(law.set_pose_target(Vector3(0.6, 0, 0.1), kDown) == TargetStatus::kOutsideBox, "10 cm off in x refused");
  const Quaternion far(Eigen::AngleAxisd(0.5, Vector3::UnitX()) * kDown);
  CHECK(law.set_pose_target(Vector3(0.5, 0, 0.1), far) == TargetStatus::kOutsideBox, "0.5 rad tilt refused");
  Command c = law.update(s, 0.001);
  CHECK((c.reference.position - s.position).norm() < 1e-12 && c.wrench.norm() < 1e-9, "refused targets are held");
  CHECK(law.set_pose_target(Vector3(0.54, 0.04, 0.18), kDown) == TargetStatus::kAccepted, "box corner accepted");
}

void test_box_clip_when_measured_outside() {
  ImpedanceLaw law(parsed(twin_params()));
  RobotState s = state_at(Vector3(0.5, 0.0, 0.19));  // 1 cm above the box top (z <= 0.1 + 0.08)
  law.activate(s);
  Command c = law.update(s, 1.0);
  CHECK(std::abs(c.reference.position.z() - 0.18) < 1e-12, "reference clipped into the box");
  CHECK(std::abs(c.wrench(2) + 20.0) < 1e-9, "which pulls down by stiffness x 1 cm");
}

void test_torque_rate_limit() {
  ImpedanceLaw law(parsed(twin_params()));
  RobotState s = state_at(Vector3(0.5, 0.0, 0.13));
  law.activate(s);
  law.set_pose_target(Vector3(0.5, 0.0, 0.10), kDown);
  Command c = law.update(s, 0.001);
  CHECK(std::abs(c.tau(2) + 1.0) < 1e-9, "1000 Nm/s x 1 ms: the torque moves by 1 Nm per cycle");
  for (int i = 0; i < 30; ++i) c = law.update(s, 0.001);
  CHECK(std::abs(c.tau(2) + 20.0) < 1e-9, "then reaches J^T F = -20 Nm");
}

void test_joint_mode_and_posture() {
  ImpedanceLaw law(parsed(twin_params()));
  RobotState s = state_at(Vector3(0.5, 0.0, 0.13));
  law.activate(s);
  Vector7 home = Vector7::Zero();
  home(0) = 0.5;  // far: limited to one joint step (0.1 rad)
  CHECK(law.set_joint_target(home), "finite joint target");
  Vector7 bad = home;
  bad(3) = NAN;
  CHECK(!law.set_joint_target(bad), "NaN joint target refused");
  Command c = law.update(s, 1.0);
  CHECK(c.joint_mode && std::abs(c.tau(0) - 600 * 0.1) < 1e-9, "joint spring on a limited reference");
  CHECK(c.tau.tail<6>().norm() < 1e-9, "other joints at their target: no torque");
  CHECK(law.set_pose_target(s.position, kDown) == TargetStatus::kAccepted, "back to Cartesian");
  c = law.update(s, 1.0);
  CHECK(!c.joint_mode, "a pose target ends joint mode");
  // the posture is now home: with a rank-6 J = [I 0], joint 7 is the null space and is pulled home
  s.q(6) = -0.2;
  s.q.head<6>().setZero();
  c = law.update(s, 1.0);
  CHECK(std::abs(c.tau(6) - 10 * (0.0 + 0.2)) < 1e-6, "null-space spring towards the posture on joint 7");
}

void test_wrench_saturation() {
  ImpedanceLaw law(parsed(twin_params()));
  RobotState s = state_at(Vector3(0.5, 0.0, 0.13));
  law.activate(s);
  s.dq(0) = 2.0;  // 2 m/s: -240 N of damping, saturated at the twin's 100 N per axis
  Command c = law.update(s, 1.0);
  CHECK(std::abs(c.wrench(0) + 100.0) < 1e-9, "per-axis force saturation");
}

int run_wrench(const std::string& params_path) {
  ParamMap m;
  if (!read_params(params_path, &m)) {
    std::cerr << "cannot read " << params_path << "\n";
    return 2;
  }
  Params p;
  const std::string err = parse_params(m, &p);
  if (!err.empty()) {
    std::cerr << err << "\n";
    return 1;
  }
  std::cout.precision(17);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    double v[20];
    int n = 0;
    while (n < 20 && in >> v[n]) ++n;
    if (n == 0) continue;
    if (n != 20) {
      std::cerr << "a case needs 20 numbers, got " << n << "\n";
      return 2;
    }
    ImpedanceLaw law(p);
    RobotState s;
    s.position = Vector3(v[0], v[1], v[2]);
    s.orientation = Quaternion(v[6], v[3], v[4], v[5]).normalized();
    law.activate(s);
    Vector6 twist;
    twist << v[7], v[8], v[9], v[10], v[11], v[12];
    const TargetStatus st = law.set_pose_target(Vector3(v[13], v[14], v[15]), Quaternion(v[19], v[16], v[17], v[18]));
    const Pose measured{s.position, s.orientation.toRotationMatrix()};
    const Pose ref = law.limit_reference(law.target(), measured);
    const Vector6 w = law.task_wrench(ref, measured, twist);
    const Quaternion rq(ref.rotation);
    std::cout << (st == TargetStatus::kAccepted ? "accepted" : "held");
    for (int i = 0; i < 6; ++i) std::cout << " " << w(i);
    std::cout << " " << ref.position.x() << " " << ref.position.y() << " " << ref.position.z() << " " << rq.x()
              << " " << rq.y() << " " << rq.z() << " " << rq.w() << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "--list-params") {
    for (const auto& s : param_specs()) {
      std::cout << s.name << " " << s.size << " " << s.min << " " << s.max << " " << s.unit << "\n";
    }
    return 0;
  }
  if (mode == "--check-params" && argc == 3) {
    ParamMap m;
    if (!read_params(argv[2], &m)) {
      std::cerr << "cannot read " << argv[2] << "\n";
      return 2;
    }
    Params p;
    const std::string err = parse_params(m, &p);
    std::cout << (err.empty() ? "ok" : err) << "\n";
    return err.empty() ? 0 : 1;
  }
  if (mode == "--wrench" && argc == 3) return run_wrench(argv[2]);
  if (!mode.empty()) {
    std::cerr << "usage: test_impedance_law [--list-params | --check-params FILE | --wrench FILE]\n";
    return 2;
  }
  test_params();
  test_hold_at_activation_and_silence();
  test_reference_limiting_and_damping();
  test_bad_targets_are_held();
  test_box_clip_when_measured_outside();
  test_torque_rate_limit();
  test_joint_mode_and_posture();
  test_wrench_saturation();
  std::cout << g_checks << " checks passed\n";
  return 0;
}
