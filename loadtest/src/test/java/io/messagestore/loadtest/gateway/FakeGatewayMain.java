package io.messagestore.loadtest.gateway;

/**
 * Runs the {@link FakeGateway} on its own, e.g. for measuring the tool's CPU per call in a
 * separate JVM: prints its target and serves until killed.
 */
public final class FakeGatewayMain {

    private FakeGatewayMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        FakeGateway gateway = FakeGateway.start(FakeGateway.Options.defaults());
        System.out.println(gateway.target());
        System.out.flush();
        Thread.currentThread().join();
    }
}
