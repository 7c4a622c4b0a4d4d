"""franka_ros2 + the RLIF impedance controller (robot image: docker/driver.sh starts this).

  ros2 launch rlif_impedance_controller robot.launch.py robot_ip:=<ip> params_file:=<cell params>

Includes franka_bringup's franka.launch.py (hardware, controller_manager, joint_state_broadcaster,
franka_robot_state_broadcaster) with this package's config/controllers.yaml (1 kHz, state
broadcaster's convenience topics at 100 Hz, the controller's fixed parameters), then spawns
rlif_impedance_controller active with the cell parameters of `params_file` (written from the run
config by `rlif robot controller-params`). No gripper: the peg is held by the hand's fingers and the
EE frame set in Desk is its tip.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

CONTROLLER = "rlif_impedance_controller"


def generate_launch_description():
    controllers_yaml = PathJoinSubstitution([FindPackageShare(CONTROLLER), "config", "controllers.yaml"])
    franka = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([FindPackageShare("franka_bringup"), "launch", "franka.launch.py"])),
        launch_arguments={
            "robot_type": LaunchConfiguration("robot_type"),
            "robot_ip": LaunchConfiguration("robot_ip"),
            "load_gripper": "false",
            "use_fake_hardware": "false",
            "controllers_yaml": controllers_yaml,
        }.items(),
    )
    spawner = Node(
        package="controller_manager",
        executable="spawner",
        arguments=[CONTROLLER, "--param-file", LaunchConfiguration("params_file"),
                   "--controller-manager-timeout", "30"],
        output="screen",
    )
    return LaunchDescription([
        DeclareLaunchArgument("robot_ip", description="the arm's FCI address"),
        DeclareLaunchArgument("robot_type", default_value="fr3", description="franka_description robot type"),
        DeclareLaunchArgument("params_file", description="the controller's cell parameters "
                                                         "(rlif robot controller-params)"),
        franka,
        spawner,
    ])
