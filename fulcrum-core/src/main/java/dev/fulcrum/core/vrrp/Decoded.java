package dev.fulcrum.core.vrrp;

/**
 * What a received VRRP message turned out to be: a valid {@link VrrpPacket} to feed to the
 * {@link VrrpStateMachine}, or an {@link Invalid} one to count (by its reason) and drop. A sealed
 * type, so the speaker's {@code switch} over it is exhaustive. Immutable.
 */
public sealed interface Decoded permits VrrpPacket, Invalid {
}
