package dev.fulcrum.core.balance;

/**
 * The 64-bit hash that consistent-hashing balancers, sticky cookies and the DSR flow table share.
 * FNV-1a over the UTF-16 code units, then MurmurHash3's fmix64 finalizer so that keys differing in
 * one character spread over the whole range. Stable across JVMs and releases: changing it moves
 * every client, so tests pin its values.
 */
public final class Hashing {

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private Hashing() {
    }

    public static long hash64(CharSequence text) {
        long h = FNV_OFFSET;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            h ^= c & 0xff;
            h *= FNV_PRIME;
            h ^= c >>> 8;
            h *= FNV_PRIME;
        }
        return fmix64(h);
    }

    public static long hash64(byte[] bytes, int offset, int length) {
        long h = FNV_OFFSET;
        for (int i = offset; i < offset + length; i++) {
            h ^= bytes[i] & 0xff;
            h *= FNV_PRIME;
        }
        return fmix64(h);
    }

    /** MurmurHash3 finalizer: a bijection on longs with full avalanche. */
    public static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
