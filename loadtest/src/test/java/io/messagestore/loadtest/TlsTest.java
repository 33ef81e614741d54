package io.messagestore.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.messagestore.loadtest.gateway.FakeGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ghz's TLS flags against a gateway with a self-signed certificate (made with openssl). */
class TlsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path cert;
    static FakeGateway gateway;
    static String target;

    @BeforeAll
    static void startTlsGateway() throws Exception {
        cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process openssl;
        try {
            openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key.toString(), "-out", cert.toString())
                    .redirectErrorStream(true).start();
        } catch (java.io.IOException noOpenssl) {
            assumeTrue(false, "openssl is not installed");
            return;
        }
        openssl.getInputStream().readAllBytes();
        assumeTrue(openssl.waitFor(30, TimeUnit.SECONDS) && openssl.exitValue() == 0 && Files.exists(key),
                "openssl could not make a certificate");
        gateway = FakeGateway.start(FakeGateway.Options.defaults(), cert.toFile(), key.toFile());
        target = "localhost:" + gateway.target().substring(gateway.target().lastIndexOf(':') + 1);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void trustingTheServersCaWithCacertMakesVerifiedCalls() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--cacert", cert.toString(),
                "--call", "grpc.health.v1.Health/Check", "-n", "20", "-c", "2", "-O", "json", target);

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(JSON.readTree(result.stdout()).get("statusCodeDistribution").get("OK").asLong()).isEqualTo(20);
    }

    @Test
    void skipTlsAcceptsACertificateNobodyTrusts() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--skipTLS",
                "--call", "grpc.health.v1.Health/Check", "-n", "20", "-c", "2", "-O", "json", target);

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(JSON.readTree(result.stdout()).get("statusCodeDistribution").get("OK").asLong()).isEqualTo(20);
    }

    @Test
    void anUntrustedCertificateStopsTheRunWithAOneLineReason() {
        CommandRunner.Result result = CommandRunner.run("--call", "grpc.health.v1.Health/Check", "-n", "5",
                "--connect-timeout", "5s", target);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr().strip()).startsWith("error: cannot connect to " + target).doesNotContain("\n");
    }
}
