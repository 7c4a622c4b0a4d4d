"""The real cell: the Franka bridge (franka_ros2 <-> cell contract) and the twin in franka mode."""
