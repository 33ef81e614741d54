package io.messagestore.loadtest.gateway;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoFileDescriptorSupplier;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * {@code loadtest.test.Echo/Say}: a service built from a descriptor at runtime, so the load
 * tester can only learn it through server reflection (it is in none of its compiled protos).
 */
final class EchoService {

    static final String SERVICE = "loadtest.test.Echo";
    static final FileDescriptor FILE = buildFile();

    private EchoService() {
    }

    private static FileDescriptor buildFile() {
        FileDescriptorProto proto = FileDescriptorProto.newBuilder()
                .setName("loadtest/test/echo.proto")
                .setPackage("loadtest.test")
                .setSyntax("proto3")
                .addMessageType(DescriptorProto.newBuilder().setName("EchoMessage")
                        .addField(FieldDescriptorProto.newBuilder().setName("text").setNumber(1)
                                .setType(FieldDescriptorProto.Type.TYPE_STRING)
                                .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL)))
                .addService(ServiceDescriptorProto.newBuilder().setName("Echo")
                        .addMethod(MethodDescriptorProto.newBuilder().setName("Say")
                                .setInputType(".loadtest.test.EchoMessage")
                                .setOutputType(".loadtest.test.EchoMessage")))
                .build();
        try {
            return FileDescriptor.buildFrom(proto, new FileDescriptor[0]);
        } catch (Descriptors.DescriptorValidationException e) {
            throw new IllegalStateException(e);
        }
    }

    static ServerServiceDefinition definition() {
        Descriptors.ServiceDescriptor service = FILE.findServiceByName("Echo");
        Descriptors.MethodDescriptor say = service.findMethodByName("Say");
        MethodDescriptor.Marshaller<DynamicMessage> marshaller = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(DynamicMessage value) {
                return new ByteArrayInputStream(value.toByteArray());
            }

            @Override
            public DynamicMessage parse(InputStream stream) {
                try {
                    return DynamicMessage.parseFrom(say.getInputType(), stream);
                } catch (IOException e) {
                    throw new IllegalArgumentException(e);
                }
            }
        };
        MethodDescriptor<DynamicMessage, DynamicMessage> method = MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Say"))
                .setRequestMarshaller(marshaller)
                .setResponseMarshaller(marshaller)
                .setSchemaDescriptor(new MethodSchema(say))
                .build();
        ServiceDescriptor descriptor = ServiceDescriptor.newBuilder(SERVICE)
                .setSchemaDescriptor(new MethodSchema(say))
                .addMethod(method)
                .build();
        return ServerServiceDefinition.builder(descriptor)
                .addMethod(method, ServerCalls.asyncUnaryCall((request, responses) -> {
                    responses.onNext(request);
                    responses.onCompleted();
                }))
                .build();
    }

    /** What ProtoReflectionService reads to serve a service's descriptor. */
    private record MethodSchema(Descriptors.MethodDescriptor method)
            implements ProtoFileDescriptorSupplier, ProtoServiceDescriptorSupplier, ProtoMethodDescriptorSupplier {
        @Override
        public FileDescriptor getFileDescriptor() {
            return FILE;
        }

        @Override
        public Descriptors.ServiceDescriptor getServiceDescriptor() {
            return method.getService();
        }

        @Override
        public Descriptors.MethodDescriptor getMethodDescriptor() {
            return method;
        }
    }

}
