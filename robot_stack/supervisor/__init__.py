"""The supervisor: a FastAPI app + web dashboard to watch and steer a run (docs/architecture.md "The graph (robot_stack)").

Pieces (each its own module):
- `state.SupervisorState`: ROS-free, thread-safe core fed by the graph (heartbeats, events,
  observations, commands, camera frames) and publishing control events through an injected
  `publish_event(kind, data)`;
- `app.create_app(state, token, run_dir, cfg)`: the API (`routes/`) and the dashboard (`static/`);
- `server.SupervisorServer`: uvicorn in a background thread with start()/stop();
- `token`: the per-run bearer token, stored 0600 in `<run-dir>/supervisor.token`;
- `metrics_file.read_metrics`: the run folder's per-episode metrics (the graph's contract).

Wiring it as a graph node is: build a `SupervisorState(publish_event=<events publisher>)`, turn
each `status`/`events`/`observation`/`command` message into the matching `on_*` call, then
`SupervisorServer(create_app(state, token, run_dir, cfg.supervisor), cfg.supervisor).start()`.
"""
