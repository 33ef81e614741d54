package io.messagestore.loadtest.call;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.health.v1.HealthProto;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionProto;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.messagestore.api.v1.MessageStoreProto;
import io.messagestore.loadtest.LoadTestException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Finds the protobuf descriptor of a {@code --call}: first in the descriptors compiled into
 * this tool (the MessageStore API, health, reflection) or a {@code --protoset}, then through
 * the server's reflection service, as ghz does when given neither --proto nor --protoset.
 */
public final class MethodResolver {

    private final List<FileDescriptor> knownFiles;

    private MethodResolver(List<FileDescriptor> knownFiles) {
        this.knownFiles = knownFiles;
    }

    /** A resolver that knows the project's own API plus the standard gRPC services. */
    public static MethodResolver withProjectDescriptors() {
        return new MethodResolver(List.of(MessageStoreProto.getDescriptor(), HealthProto.getDescriptor(),
                ServerReflectionProto.getDescriptor()));
    }

    /** Adds the files of a protoset (a serialized FileDescriptorSet, as {@code protoc -o}). */
    public MethodResolver withProtoset(Path protoset) {
        try (InputStream in = Files.newInputStream(protoset)) {
            FileDescriptorSet set = FileDescriptorSet.parseFrom(in);
            Map<String, FileDescriptorProto> byName = new HashMap<>();
            set.getFileList().forEach(f -> byName.put(f.getName(), f));
            List<FileDescriptor> files = new ArrayList<>(knownFiles);
            Map<String, FileDescriptor> built = new HashMap<>();
            for (FileDescriptorProto file : set.getFileList()) {
                files.add(build(file.getName(), byName, built, name -> null));
            }
            return new MethodResolver(files);
        } catch (IOException e) {
            throw new LoadTestException("cannot read protoset " + protoset + ": " + e.getMessage(), e);
        }
    }

    /** Splits {@code pkg.Service/Method} or {@code pkg.Service.Method} into its two names. */
    static String[] splitCall(String call) {
        String trimmed = call.trim();
        int slash = trimmed.lastIndexOf('/');
        int cut = slash >= 0 ? slash : trimmed.lastIndexOf('.');
        if (cut <= 0 || cut == trimmed.length() - 1) {
            throw new LoadTestException("--call '" + call + "' is not of the form package.Service/Method");
        }
        String service = trimmed.substring(0, cut);
        if (service.startsWith("/")) {
            service = service.substring(1);
        }
        return new String[] {service, trimmed.substring(cut + 1)};
    }

    /** Finds the method among the known descriptors, or returns null. */
    public MethodDescriptor resolveLocally(String call) {
        String[] names = splitCall(call);
        for (FileDescriptor file : knownFiles) {
            ServiceDescriptor service = file.findServiceByName(simpleName(names[0], file.getPackage()));
            if (service != null && service.getFullName().equals(names[0])) {
                MethodDescriptor method = service.findMethodByName(names[1]);
                if (method == null) {
                    throw new LoadTestException("unknown method " + names[1] + " in service " + names[0]);
                }
                return method;
            }
        }
        return null;
    }

    /** Resolves locally, then through server reflection on {@code channel}. */
    public MethodDescriptor resolve(String call, Channel channel, Metadata headers, Duration timeout) {
        MethodDescriptor local = resolveLocally(call);
        if (local != null) {
            return local;
        }
        String[] names = splitCall(call);
        ServiceDescriptor service = new ReflectionClient(channel, headers, timeout).findService(names[0]);
        MethodDescriptor method = service.findMethodByName(names[1]);
        if (method == null) {
            throw new LoadTestException("unknown method " + names[1] + " in service " + names[0]);
        }
        return method;
    }

    private static String simpleName(String fullName, String pkg) {
        if (pkg.isEmpty()) {
            return fullName;
        }
        return fullName.startsWith(pkg + ".") ? fullName.substring(pkg.length() + 1) : "\0";
    }

    private FileDescriptor known(String fileName) {
        for (FileDescriptor file : knownFiles) {
            if (file.getName().equals(fileName)) {
                return file;
            }
            for (FileDescriptor dependency : file.getDependencies()) {
                if (dependency.getName().equals(fileName)) {
                    return dependency;
                }
            }
        }
        return null;
    }

    interface Fetcher {
        FileDescriptorProto fetch(String fileName);
    }

    private FileDescriptor build(String name, Map<String, FileDescriptorProto> protos,
                                 Map<String, FileDescriptor> built, Fetcher fetcher) {
        FileDescriptor done = built.get(name);
        if (done != null) {
            return done;
        }
        FileDescriptorProto proto = protos.get(name);
        if (proto == null) {
            FileDescriptor known = known(name);
            if (known != null) {
                built.put(name, known);
                return known;
            }
            proto = fetcher.fetch(name);
            if (proto == null) {
                throw new LoadTestException("descriptor of " + name + " is not available");
            }
            protos.put(name, proto);
        }
        List<FileDescriptor> dependencies = new ArrayList<>();
        for (String dependency : proto.getDependencyList()) {
            dependencies.add(build(dependency, protos, built, fetcher));
        }
        try {
            FileDescriptor file = FileDescriptor.buildFrom(proto, dependencies.toArray(FileDescriptor[]::new));
            built.put(name, file);
            return file;
        } catch (Descriptors.DescriptorValidationException e) {
            throw new LoadTestException("invalid descriptor " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * The same RPC under the older v1alpha name, which many servers (and ghz, grpcurl) still
     * use. Its messages are wire-identical to v1's, so the v1 marshallers serve both.
     */
    private static final io.grpc.MethodDescriptor<ServerReflectionRequest, ServerReflectionResponse> V1ALPHA =
            ServerReflectionGrpc.getServerReflectionInfoMethod().toBuilder()
                    .setFullMethodName("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
                    .setSchemaDescriptor(null)
                    .build();

    /** The server does not know the reflection method that was tried. */
    private static final class UnimplementedReflection extends RuntimeException {
        UnimplementedReflection() {
            super(null, null, false, false);
        }
    }

    /** A minimal server reflection client (v1, else v1alpha): one short stream per question. */
    private final class ReflectionClient {
        private final Channel channel;
        private final Duration timeout;
        private io.grpc.MethodDescriptor<ServerReflectionRequest, ServerReflectionResponse> method =
                ServerReflectionGrpc.getServerReflectionInfoMethod();

        ReflectionClient(Channel channel, Metadata headers, Duration timeout) {
            this.channel = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
            this.timeout = timeout;
        }

        ServiceDescriptor findService(String serviceName) {
            ServerReflectionResponse response = ask(ServerReflectionRequest.newBuilder()
                    .setFileContainingSymbol(serviceName).build(), serviceName);
            if (response.hasErrorResponse()) {
                throw new LoadTestException("unknown service " + serviceName + " (server reflection: "
                        + response.getErrorResponse().getErrorMessage() + ")");
            }
            Map<String, FileDescriptorProto> protos = new HashMap<>();
            String first = null;
            for (var bytes : response.getFileDescriptorResponse().getFileDescriptorProtoList()) {
                try {
                    FileDescriptorProto proto = FileDescriptorProto.parseFrom(bytes);
                    protos.put(proto.getName(), proto);
                    if (first == null) {
                        first = proto.getName();
                    }
                } catch (InvalidProtocolBufferException e) {
                    throw new LoadTestException("server reflection sent an unreadable descriptor", e);
                }
            }
            Map<String, FileDescriptor> built = new HashMap<>();
            for (String name : new ArrayList<>(protos.keySet())) {
                FileDescriptor file = build(name, protos, built, this::fetchFile);
                for (ServiceDescriptor service : file.getServices()) {
                    if (service.getFullName().equals(serviceName)) {
                        return service;
                    }
                }
            }
            throw new LoadTestException("unknown service " + serviceName);
        }

        private FileDescriptorProto fetchFile(String fileName) {
            ServerReflectionResponse response = ask(ServerReflectionRequest.newBuilder()
                    .setFileByFilename(fileName).build(), fileName);
            if (response.hasErrorResponse()) {
                return null;
            }
            for (var bytes : response.getFileDescriptorResponse().getFileDescriptorProtoList()) {
                try {
                    FileDescriptorProto proto = FileDescriptorProto.parseFrom(bytes);
                    if (proto.getName().equals(fileName)) {
                        return proto;
                    }
                } catch (InvalidProtocolBufferException e) {
                    throw new LoadTestException("server reflection sent an unreadable descriptor", e);
                }
            }
            return null;
        }

        private ServerReflectionResponse ask(ServerReflectionRequest request, String subject) {
            try {
                return askOnce(request, subject);
            } catch (UnimplementedReflection e) {
                if (method == V1ALPHA) {
                    throw new LoadTestException("cannot resolve " + subject
                            + ": the server has no reflection service (use --protoset)");
                }
                method = V1ALPHA;
                return ask(request, subject);
            }
        }

        private ServerReflectionResponse askOnce(ServerReflectionRequest request, String subject) {
            CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
            StreamObserver<ServerReflectionRequest> requests = io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
                    channel.newCall(method, io.grpc.CallOptions.DEFAULT
                            .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)),
                    new StreamObserver<ServerReflectionResponse>() {
                        @Override
                        public void onNext(ServerReflectionResponse value) {
                            answer.complete(value);
                        }

                        @Override
                        public void onError(Throwable t) {
                            answer.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                            answer.completeExceptionally(new IllegalStateException("no answer"));
                        }
                    });
            requests.onNext(request);
            requests.onCompleted();
            try {
                return answer.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                Status status = Status.fromThrowable(e.getCause());
                if (status.getCode() == Status.Code.UNIMPLEMENTED) {
                    throw new UnimplementedReflection();
                }
                throw new LoadTestException("cannot resolve " + subject + " through server reflection: "
                        + status.getCode() + (status.getDescription() == null ? "" : " " + status.getDescription()));
            } catch (TimeoutException e) {
                throw new LoadTestException("cannot resolve " + subject + ": server reflection did not answer");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LoadTestException("interrupted");
            }
        }
    }

}
