package io.messagestore.loadtest.call;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.DynamicMessage;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor.Marshaller;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Marshallers for generic calls. Requests travel as already-serialized bytes so that a
 * request without templates is serialized once for the whole run; responses are by default
 * not parsed at all, because a load test only needs to know that one arrived.
 */
public final class RawMarshallers {

    /** The value handed to listeners for a response that was not parsed. */
    public static final Object DISCARDED = new Object();

    private RawMarshallers() {
    }

    public static final Marshaller<byte[]> BYTES = new Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new KnownLengthBytes(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw Status.INTERNAL.withCause(e).asRuntimeException();
            }
        }
    };

    /** Drops the response: gRPC closes the stream after parse, nothing needs to be read. */
    public static final Marshaller<Object> DISCARD = new Marshaller<>() {
        @Override
        public InputStream stream(Object value) {
            throw new UnsupportedOperationException("responses are never sent by the client");
        }

        @Override
        public Object parse(InputStream stream) {
            return DISCARDED;
        }
    };

    /** Parses responses into DynamicMessages, for the modes that read response fields. */
    public static Marshaller<Object> dynamic(Descriptor type) {
        return new Marshaller<>() {
            @Override
            public InputStream stream(Object value) {
                return new KnownLengthBytes(((DynamicMessage) value).toByteArray());
            }

            @Override
            public Object parse(InputStream stream) {
                try {
                    return DynamicMessage.parseFrom(type, stream);
                } catch (IOException e) {
                    throw Status.INTERNAL.withDescription("unreadable response").withCause(e).asRuntimeException();
                }
            }
        };
    }

    /** A grpc MethodDescriptor for {@code method} carrying raw request bytes. */
    public static io.grpc.MethodDescriptor<byte[], Object> methodOf(MethodDescriptor method,
                                                                     boolean parseResponses) {
        if (method.isClientStreaming()) {
            throw new io.messagestore.loadtest.LoadTestException("--call " + method.getFullName()
                    + " is client- or bidi-streaming; only unary and server-streaming methods are supported");
        }
        return io.grpc.MethodDescriptor.<byte[], Object>newBuilder()
                .setType(method.isServerStreaming() ? MethodType.SERVER_STREAMING : MethodType.UNARY)
                .setFullMethodName(io.grpc.MethodDescriptor.generateFullMethodName(
                        method.getService().getFullName(), method.getName()))
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(parseResponses ? dynamic(method.getOutputType()) : DISCARD)
                .build();
    }

    /** Lets gRPC size the frame up front and copy the bytes straight into its buffer. */
    private static final class KnownLengthBytes extends ByteArrayInputStream implements KnownLength, Drainable {
        KnownLengthBytes(byte[] bytes) {
            super(bytes);
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int length = count - pos;
            target.write(buf, pos, length);
            pos = count;
            return length;
        }
    }
}
