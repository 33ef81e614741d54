package io.messagestore.loadtest.watch;

/** The gateway's message ids are UUIDv7: their first 48 bits are the millisecond they were minted. */
public final class MessageIds {

    private MessageIds() {
    }

    /** The smallest UUIDv7 of a millisecond: ids compare by time first, so all later ids are above it. */
    public static String lowerBound(long epochMillis) {
        String hex = String.format("%012x", epochMillis);
        return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-7000-8000-000000000000";
    }
}
