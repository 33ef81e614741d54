package io.messagestore.loadtest.call;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where and how to connect, as given by ghz's flags.
 *
 * @param host            target, e.g. {@code localhost:50051} or any grpc target URI
 * @param insecure        plaintext (ghz default is TLS)
 * @param caCert          trust these CAs instead of the system ones
 * @param cert            client certificate for mutual TLS
 * @param key             client key for mutual TLS
 * @param cname           server name to verify (and send as authority)
 * @param skipTlsVerify   accept any server certificate
 * @param authority       :authority header override
 * @param connections     number of channels (TCP connections) calls are spread over
 * @param connectTimeout  how long to wait for the first connection before giving up
 */
public record ConnectionOptions(
        String host,
        boolean insecure,
        Path caCert,
        Path cert,
        Path key,
        String cname,
        boolean skipTlsVerify,
        String authority,
        int connections,
        Duration connectTimeout) {

    public ConnectionOptions {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host is required");
        }
        if (connections < 1) {
            throw new IllegalArgumentException("--connections must be at least 1");
        }
    }

    public static ConnectionOptions plaintext(String host) {
        return new ConnectionOptions(host, true, null, null, null, null, false, null, 1,
                Duration.ofSeconds(10));
    }

    /** The same settings towards another target (e.g. the gateway the watchers use). */
    public ConnectionOptions withHost(String otherHost) {
        return new ConnectionOptions(otherHost, insecure, caCert, cert, key, cname, skipTlsVerify,
                authority, connections, connectTimeout);
    }

    public ConnectionOptions withConnections(int count) {
        return new ConnectionOptions(host, insecure, caCert, cert, key, cname, skipTlsVerify,
                authority, count, connectTimeout);
    }
}
