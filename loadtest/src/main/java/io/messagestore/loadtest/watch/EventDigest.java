package io.messagestore.loadtest.watch;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor.Marshaller;
import io.grpc.Status;
import io.messagestore.api.v1.ThreadEvent;
import java.io.IOException;
import java.io.InputStream;

/**
 * What the watchers need of a ThreadEvent: its type and, for MESSAGE_CONFIRMED, the message's
 * created_at. Read straight off the wire, skipping the content and metadata: a thousand
 * watchers of a thread at a thousand sends per second receive a million events per second,
 * and parsing each whole message (UTF-8 decoding its content) would load the tool, which
 * shares the machine with the gateways it measures, more than the gateways' own sending.
 *
 * @param type              the event type's number ({@link ThreadEvent.Type})
 * @param createdEpochNanos the message's created_at, or -1 when the event carries no message
 */
public record EventDigest(int type, long createdEpochNanos) {

    static final int MESSAGE_CONFIRMED = ThreadEvent.Type.MESSAGE_CONFIRMED_VALUE;

    private static final int EVENT_TYPE = 1;
    private static final int EVENT_MESSAGE = 4;
    private static final int MESSAGE_CREATED_AT = 7;
    private static final int TIMESTAMP_SECONDS = 1;
    private static final int TIMESTAMP_NANOS = 2;

    /** Responses of WatchThread as digests. */
    public static final Marshaller<EventDigest> MARSHALLER = new Marshaller<>() {
        @Override
        public InputStream stream(EventDigest value) {
            throw new UnsupportedOperationException("events are never sent by the client");
        }

        @Override
        public EventDigest parse(InputStream stream) {
            try {
                return read(CodedInputStream.newInstance(stream));
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("unreadable ThreadEvent").withCause(e).asRuntimeException();
            }
        }
    };

    static EventDigest read(CodedInputStream in) throws IOException {
        int type = 0;
        long created = -1;
        int tag;
        while ((tag = in.readTag()) != 0) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == EVENT_TYPE && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                type = in.readEnum();
            } else if (field == EVENT_MESSAGE && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int limit = in.pushLimit(in.readRawVarint32());
                created = createdAt(in);
                in.popLimit(limit);
            } else {
                in.skipField(tag);
            }
        }
        return new EventDigest(type, created);
    }

    private static long createdAt(CodedInputStream message) throws IOException {
        long created = -1;
        int tag;
        while ((tag = message.readTag()) != 0) {
            if (WireFormat.getTagFieldNumber(tag) == MESSAGE_CREATED_AT
                    && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int limit = message.pushLimit(message.readRawVarint32());
                long seconds = 0;
                int nanos = 0;
                int t;
                while ((t = message.readTag()) != 0) {
                    switch (WireFormat.getTagFieldNumber(t)) {
                        case TIMESTAMP_SECONDS -> seconds = message.readInt64();
                        case TIMESTAMP_NANOS -> nanos = message.readInt32();
                        default -> message.skipField(t);
                    }
                }
                message.popLimit(limit);
                created = seconds * 1_000_000_000L + nanos;
            } else {
                message.skipField(tag);
            }
        }
        return created;
    }
}
