package dev.fulcrum.server.admin;

/**
 * The answer of a runtime action the admin API asks for ({@link AdminHooks#reload()},
 * {@link AdminHooks#healthz()}): it worked, or why not, in text an operator reads as it is
 * (a reload's config errors, one per line; a health problem in one sentence). Immutable.
 */
public record Outcome(boolean ok, String detail) {

    private static final Outcome OK = new Outcome(true, "ok");

    public Outcome {
        detail = detail == null || detail.isBlank() ? (ok ? "ok" : "failed") : detail;
    }

    public static Outcome success() {
        return OK;
    }

    public static Outcome failed(String reason) {
        return new Outcome(false, reason);
    }
}
