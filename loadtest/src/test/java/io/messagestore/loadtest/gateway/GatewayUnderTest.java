package io.messagestore.loadtest.gateway;

/**
 * What the real-run tests need from a gateway. {@link FakeGateway} plays it, because those
 * tests check behaviour only the fake has (an Echo service, UNIMPLEMENTED reads, its error
 * text); RealGatewayRunTest runs against the real gateway itself.
 */
public interface GatewayUnderTest extends AutoCloseable {

    /** host:port to give the load tester. */
    String target();

    /** A token the gateway accepts in {@code authorization: Bearer <token>}. */
    String bearerToken();

    @Override
    void close();

    /**
     * The gateway the tests run against: {@code MESSAGESTORE_TEST_TARGET} and
     * {@code MESSAGESTORE_TEST_TOKEN} select a running one; otherwise a {@link FakeGateway}.
     */
    static GatewayUnderTest start() {
        String target = System.getenv("MESSAGESTORE_TEST_TARGET");
        if (target != null && !target.isBlank()) {
            String token = System.getenv().getOrDefault("MESSAGESTORE_TEST_TOKEN", "");
            return new GatewayUnderTest() {
                @Override
                public String target() {
                    return target;
                }

                @Override
                public String bearerToken() {
                    return token;
                }

                @Override
                public void close() {
                }
            };
        }
        return FakeGateway.start(FakeGateway.Options.defaults());
    }
}
