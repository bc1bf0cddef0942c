/**
 * The control plane: the one thread that changes pools and servers (STYLE principle 13).
 *
 * <p>{@link dev.fulcrum.server.control.ControlPlane} runs commands on a
 * {@link dev.fulcrum.server.control.Scheduler}: {@link dev.fulcrum.server.control.ControlThread}
 * in production ({@code fulcrum-control}, the wall clock), a manual scheduler in tests, whose time
 * moves only when the test says so. The flow:
 *
 * <pre>
 *  config load, reload (SIGHUP, POST /reload) ─┐
 *  admin API add/remove/drain/enable (submit) ─┤
 *  probe outcomes (fulcrum-health loop) ───────┤
 *  request outcomes → outlier decisions ───────┼──► fulcrum-control: Registry commands
 *  auto-scaler steps, provisioned servers ─────┤      │ publish the pool snapshot (data plane reads it)
 *  DSR neighbour-table reads ──────────────────┘      ▼ then emit a typed PoolEvent to listeners,
 *  timers: check intervals, ejection ends,            on the same thread: EventStream (SSE), Alerter,
 *  slow-start steps, drain polls, scaling steps       FulcrumMetrics, HealthChecker, OutlierEjector,
 *                                                     SlowStartRamp, AutoScaler, DsrService
 * </pre>
 *
 * <p>A reload is one command, whole: the pools, the listeners, the config in force and its
 * {@code config-reloaded} event change together, ordered against every other command; its caller
 * (SIGHUP's thread, the admin API's reload thread) waits for it. Its pools are decided before they
 * are applied: {@link dev.fulcrum.core.reload.ReloadPlan#diff} (pure, in fulcrum-core) turns the
 * running pools and the file's pools into typed {@link dev.fulcrum.core.reload.ReloadCommand}s,
 * which the registry carries out in order.
 *
 * <p>Blocking work stays off the control thread: probes' and scrapes' I/O, provisioners, alert
 * delivery; their results come back as commands. The one wait on it is a reload's listener binds:
 * local, short, and on event loops that never wait for the control thread.
 */
package dev.fulcrum.server.control;
