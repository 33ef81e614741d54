package io.messagestore.loadtest.call;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.messagestore.loadtest.run.CallLauncher;
import io.messagestore.loadtest.run.Worker;
import java.util.concurrent.TimeUnit;

/**
 * Makes the {@code --call} of a run through grpc's generic ClientCall API: no generated stub,
 * no parsing of responses unless someone asks for them. Each worker keeps one listener for
 * all its calls, so a call allocates little beyond what gRPC itself needs.
 */
public final class GenericCallLauncher implements CallLauncher {

    /** Sees each response, for modes that read them (e.g. sampling message ids). */
    @FunctionalInterface
    public interface ResponseObserver {
        void onResponse(Worker worker, Object response);
    }

    private final MethodDescriptor<byte[], Object> method;
    private final RequestSource requests;
    private final MetadataSource metadata;
    private final long timeoutNanos;
    private final ResponseObserver responses;
    private final boolean serverStreaming;

    public GenericCallLauncher(MethodDescriptor<byte[], Object> method, RequestSource requests,
                               MetadataSource metadata, long timeoutNanos, ResponseObserver responses) {
        this.method = method;
        this.requests = requests;
        this.metadata = metadata;
        this.timeoutNanos = timeoutNanos;
        this.responses = responses;
        this.serverStreaming = method.getType() == MethodDescriptor.MethodType.SERVER_STREAMING;
    }

    @Override
    public void start(Worker worker) {
        Listener listener = worker.attachment();
        if (listener == null) {
            listener = new Listener(worker);
            worker.attach(listener);
        }
        long n = worker.requestNumber();
        byte[] request = requests.request(n, worker.id());
        Metadata headers = metadata.headers(n, worker.id());
        CallOptions options = timeoutNanos > 0
                ? CallOptions.DEFAULT.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS)
                : CallOptions.DEFAULT;
        ClientCall<byte[], Object> call = worker.channel().newCall(method, options);
        worker.track(call);
        call.start(listener, headers);
        // unary: ask for 2 so that a second (illegal) message is noticed, as ClientCalls does
        call.request(serverStreaming ? Integer.MAX_VALUE : 2);
        call.sendMessage(request);
        call.halfClose();
    }

    private final class Listener extends ClientCall.Listener<Object> {
        private final Worker worker;

        Listener(Worker worker) {
            this.worker = worker;
        }

        @Override
        public void onMessage(Object message) {
            if (responses != null) {
                responses.onResponse(worker, message);
            }
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            worker.complete(status);
        }
    }
}
