package dev.fulcrum.core.vrrp;

/**
 * The states of one virtual router on this host: RFC 5798 §6.4's three, plus {@link #FAULT},
 * Fulcrum's own. The {@code notify} program gets the name ({@code MASTER}, {@code BACKUP},
 * {@code FAULT}).
 */
public enum VrrpState {
    /** Not started, or shut down: no adverts, no addresses, no timer. */
    INITIALIZE,
    /** Listening: takes over when the master-down timer expires with no better advert. */
    BACKUP,
    /** Holds the virtual IPs and sends an advert every advert interval. */
    MASTER,
    /**
     * This instance cannot serve (a listener failed; {@code /healthz} would answer 503): it gave up
     * MASTER with a priority-0 advert, holds nothing and ignores adverts until it recovers.
     */
    FAULT
}
