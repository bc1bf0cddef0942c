package dev.fulcrum.server.admin;

/**
 * The answer of a runtime action the admin API asks for ({@link AdminHooks#reload()},
 * {@link AdminHooks#healthz()}): it worked, or why not, in text an operator reads as it is
 * (a reload's config errors, one per line; a health problem in one sentence). Immutable.
 */
public record HookResult(boolean ok, String detail) {

    private static final HookResult OK = new HookResult(true, "ok");

    public HookResult {
        detail = detail == null || detail.isBlank() ? (ok ? "ok" : "failed") : detail;
    }

    public static HookResult success() {
        return OK;
    }

    public static HookResult failed(String reason) {
        return new HookResult(false, reason);
    }
}
