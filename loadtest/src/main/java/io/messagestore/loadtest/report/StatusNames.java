package io.messagestore.loadtest.report;

import io.grpc.Status;

/** gRPC status codes spelled as grpc-go (and so ghz) prints them: "OK", "DeadlineExceeded". */
public final class StatusNames {

    private static final String[] NAMES = {
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
        "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
        "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
    };

    private StatusNames() {
    }

    public static String of(Status.Code code) {
        return NAMES[code.value()];
    }

    public static int codeCount() {
        return NAMES.length;
    }

    public static String ofValue(int value) {
        return NAMES[value];
    }

    /** The error text grpc-go gives a failed call, which is what ghz counts errors by. */
    public static String errorText(Status status) {
        String description = status.getDescription();
        if (description == null && status.getCause() != null) {
            description = status.getCause().getMessage();
        }
        return "rpc error: code = " + of(status.getCode()) + " desc = " + (description == null ? "" : description);
    }
}
