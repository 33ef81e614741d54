package io.messagestore.server;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.messagestore.server.api.grpc.AdminService;
import io.messagestore.server.consistency.ConsistencyChecker;
import io.messagestore.server.api.grpc.MalformedRequests;
import io.messagestore.server.api.grpc.MessageStoreService;
import io.messagestore.server.auth.AdminOnlyInterceptor;
import io.messagestore.server.auth.AuthInterceptor;
import io.messagestore.server.auth.JwtVerifier;
import io.messagestore.server.archive.Archiver;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.clickhouse.ClickHouseMessageStore;
import io.messagestore.server.clickhouse.ClickHouseRunStates;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.clickhouse.MessageFacts;
import io.messagestore.server.config.GatewayConfig;
import io.messagestore.server.consistency.FailoverRepair;
import io.messagestore.server.eventloop.EventLoops;
import io.messagestore.server.events.ClusterEvents;
import io.messagestore.server.events.MessagesPersisted;
import io.messagestore.server.events.MessagesPersistedElsewhere;
import io.messagestore.server.events.PersistedIdsRelay;
import io.messagestore.server.health.TierHealthMonitor;
import io.messagestore.server.metrics.MetricsHttpServer;
import io.messagestore.server.metrics.RequestActivity;
import io.messagestore.server.persistence.DeadLetters;
import io.messagestore.server.persistence.DurableAnswers;
import io.messagestore.server.persistence.PersistenceWaiters;
import io.messagestore.server.persistence.Persisters;
import io.messagestore.server.persistence.StreamBacklog;
import io.messagestore.server.postgres.FailoverRows;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresRunStates;
import io.messagestore.server.postgres.PostgresThreadStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.postgres.RedisRepairNotifications;
import io.messagestore.server.postgres.RedisRepairRows;
import io.messagestore.server.postgres.ThreadErasures;
import io.messagestore.server.read.CacheRebuilder;
import io.messagestore.server.read.PageTokens;
import io.messagestore.server.read.ReadPath;
import io.messagestore.server.read.ThreadStatsRead;
import io.messagestore.server.read.ThreadListInvalidation;
import io.messagestore.server.redis.NearCache;
import io.messagestore.server.redis.RecentIndex;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisMessageWriter;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.RedisValues;
import io.messagestore.server.redis.ThreadListCache;
import io.messagestore.server.resilience.TierBreakers;
import io.messagestore.server.runstate.RunStates;
import io.messagestore.server.watch.ThreadEventPublisher;
import io.messagestore.server.watch.Watches;
import io.messagestore.server.write.MessageIdGenerator;
import io.messagestore.server.write.SendRequestValidator;
import io.messagestore.server.write.ThreadDeletion;
import io.messagestore.server.write.FailoverWrite;
import io.messagestore.server.write.WritePath;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The gateway process: wires tiers, write and read paths, persisters and the gRPC server, and
 * takes them down in the reverse order. Start with {@link #start()}, stop with {@link #stop()}.
 */
public final class Gateway implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Gateway.class);

  private final GatewayConfig config;
  private final PrometheusMeterRegistry meters;
  private final RedisTier redis;
  private final NearCache nearCache;
  private final PostgresTier postgres;
  private final ClickHouseTier clickhouse;
  private final EventLoops eventLoops;
  private final ExecutorService blockingExecutor;
  private final HealthStatusManager health;
  private final TierHealthMonitor monitor;
  private final Persisters persisters;
  private final PersistedIdsRelay otherInstances;
  private final CacheRebuilder rebuilder;
  private final Archiver archiver;
  private final RequestActivity requestActivity;
  private final FailoverRepair repairs;
  private final RedisRepairNotifications repairMarks;
  private final Watches watches;
  private final RunStates runStates;
  private final ConsistencyChecker consistency;
  private final FailoverWrite failover;
  private final Server server;
  private MetricsHttpServer metricsServer;

  public Gateway(GatewayConfig config, Clock clock) {
    this.config = config;
    bridgeJavaUtilLogging();
    meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    meters.config().meterFilter(new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig c) {
        // Latency histograms for every RPC, so p50/p99 can be computed in Prometheus.
        if (id.getName().startsWith("grpc.server")) {
          return DistributionStatisticConfig.builder().percentilesHistogram(true).build().merge(c);
        }
        return c;
      }
    });
    new JvmMemoryMetrics().bindTo(meters);
    new JvmGcMetrics().bindTo(meters);
    new JvmThreadMetrics().bindTo(meters);
    new ProcessorMetrics().bindTo(meters);

    eventLoops = new EventLoops(config.ioThreads());
    redis = new RedisTier(config.redis(), eventLoops);
    postgres = new PostgresTier(config.postgres());
    clickhouse = new ClickHouseTier(config.clickhouse());
    RedisKeys keys = new RedisKeys(config.streamShards());
    TierBreakers breakers = new TierBreakers(config.breakers(), meters);
    PostgresMessageStore messageRows = new PostgresMessageStore(postgres, config.idempotencyTtl());
    PersistenceWaiters waiters = new PersistenceWaiters(eventLoops);
    // What a commit tells the rest of the system, in this order: durable sends here and elsewhere,
    // then cached thread lists.
    ClusterEvents events = new ClusterEvents();
    otherInstances = new PersistedIdsRelay(redis, keys, events);
    DurableAnswers durableAnswers = new DurableAnswers(waiters, otherInstances::publish);
    events.subscribe(MessagesPersisted.class, durableAnswers::persistedHere);
    events.subscribe(MessagesPersistedElsewhere.class, durableAnswers::persistedElsewhere);
    events.subscribe(MessagesPersisted.class, new ThreadListInvalidation(redis, keys));
    DeadLetters deadLetters = new DeadLetters(redis, keys, meters);
    StreamBacklog backlog = new StreamBacklog(redis, keys, clock, meters);

    // Blocking tier calls (JDBC, ClickHouse HTTP) never run on the event loops.
    blockingExecutor = Executors.newFixedThreadPool(config.postgresPoolSize() * 2, daemon("tier-io"));

    health = new HealthStatusManager();
    requestActivity = new RequestActivity(clock);
    archiver = new Archiver(config.archive(), postgres, clickhouse, config.clickhouse(), breakers.clickhouseWrite(),
        requestActivity::callsPerSecond, events, clock, meters);
    monitor = new TierHealthMonitor(redis, postgres, clickhouse, backlog, health, config.healthProbeInterval(), meters);
    persisters = new Persisters(redis, keys, postgres, messageRows, deadLetters, events, clock, meters,
        config.persistence(), config.recentWindow());

    RecentIndex recentIndex = new RecentIndex(keys, config.recentWindow(), config.messageTtl());
    repairs = new FailoverRepair(redis, keys, recentIndex, messageRows, new RedisRepairRows(postgres), clock,
        config.redisData(), events, meters);
    repairMarks = new RedisRepairNotifications(postgres, repairs::markedInPostgres, repairs::pollNow);
    breakers.redisWrite().whenClosed(repairs::redisIsBack);
    nearCache = new NearCache(redis, config.nearCacheBytes(), config.messageTtl(), meters);
    RedisValues redisValues = new RedisValues(nearCache, breakers);
    MessageIdGenerator ids = new MessageIdGenerator(clock);
    ThreadAccess access = new ThreadAccess(redis, redisValues, keys, messageRows, breakers, blockingExecutor);
    failover = new FailoverWrite(new FailoverRows(postgres, messageRows), breakers, repairs, access,
        config.writes().failoverLinger(), config.writes().failoverCommitters(), blockingExecutor, meters);
    WritePath writes = new WritePath(
        new RedisMessageWriter(redis, nearCache, keys, config.messageTtl(), config.idempotencyTtl(),
            config.maxBacklog()),
        messageRows, breakers, waiters, ids,
        new SendRequestValidator(config.maxContentBytes()), blockingExecutor, config.durableTimeout(),
        failover, repairs, access);
    PageTokens tokens = new PageTokens(cursorSecret(config));
    ReadPath reads = new ReadPath(redis, nearCache, redisValues, keys, messageRows, new PostgresThreadStore(postgres),
        new ClickHouseMessageStore(clickhouse), breakers, tokens, blockingExecutor, config.messageTtl(), recentIndex,
        new ThreadListCache(redis, nearCache, redisValues, keys, breakers), repairs, access, meters);

    new ThreadEventPublisher(redis, keys).subscribeTo(events);
    watches = new Watches(reads, redis, keys, messageRows, new ClickHouseMessageStore(clickhouse), config.watches(),
        blockingExecutor, clock, meters);
    watches.subscribeTo(events);
    runStates = new RunStates(redis, nearCache, redisValues, keys, new PostgresRunStates(postgres),
        new ClickHouseRunStates(clickhouse), breakers, config.runStates(), config.redisRepairInterval(),
        blockingExecutor, clock, meters);

    consistency = new ConsistencyChecker(redis, keys, deadLetters, postgres, messageRows, clickhouse,
        config.consistency(), config.archive(), blockingExecutor, requestActivity::callsPerSecond, clock, meters);
    rebuilder = new CacheRebuilder(redis, keys, messageRows, new PostgresThreadStore(postgres), recentIndex);
    MalformedRequests malformed = new MalformedRequests(meters, clock);
    JwtVerifier verifier = config.authMode() == GatewayConfig.AuthMode.REQUIRED
        ? new JwtVerifier(config.jwtSecret(), clock) : null;
    server = NettyServerBuilder.forAddress(new InetSocketAddress(config.grpcHost(), config.grpcPort()))
        // Calls run on the event loop that received them (see EventLoops): every handler is
        // asynchronous and hands blocking tier calls to the blocking pool.
        .bossEventLoopGroup(eventLoops.group())
        .workerEventLoopGroup(eventLoops.group())
        .channelType(eventLoops.serverChannelType())
        .directExecutor()
        .maxInboundMessageSize(config.maxInboundMessageBytes())
        // Pings keep an idle WatchThread stream open through proxies that drop quiet
        // connections; clients may ping as often as grpc-java's floor allows.
        .keepAliveTime(config.watches().keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(20, TimeUnit.SECONDS)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        // Every service answers a request that is not valid protobuf with INVALID_ARGUMENT.
        .addService(malformed.guard(new MessageStoreService(writes, reads,
            new ThreadStatsRead(access, new MessageFacts(clickhouse), breakers, blockingExecutor),
            new ThreadDeletion(redis, keys, new ThreadErasures(postgres), messageRows, access, ids, blockingExecutor,
                events),
            watches, runStates).bindService()))
        .addService(malformed.guard(ServerInterceptors.intercept(
            new AdminService(monitor, breakers, backlog, deadLetters, tokens, blockingExecutor, rebuilder, repairs,
                archiver, consistency),
            new AdminOnlyInterceptor())))
        .addService(malformed.guard(health.getHealthService().bindService()))
        .addService(malformed.guard(ProtoReflectionServiceV1.newInstance().bindService()))
        .addService(malformed.guard(ProtoReflectionService.newInstance().bindService()))
        // Interceptors run last-added first: metrics see every call, including rejected ones.
        .intercept(new AuthInterceptor(verifier))
        .intercept(new MetricCollectingServerInterceptor(meters))
        .intercept(requestActivity)
        .build();
  }

  /**
   * grpc-java and Netty log through java.util.logging: bridged into SLF4J, so that their lines
   * have the gateway's format and levels (logback.xml propagates its levels back to JUL). Once per
   * process.
   */
  private static synchronized void bridgeJavaUtilLogging() {
    if (!SLF4JBridgeHandler.isInstalled()) {
      SLF4JBridgeHandler.removeHandlersForRootLogger();
      SLF4JBridgeHandler.install();
    }
  }

  private static String cursorSecret(GatewayConfig config) {
    if (!config.jwtSecret().isEmpty()) {
      return config.jwtSecret();
    }
    // Auth disabled (single loopback instance): cursors only need to be valid for this process.
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return Base64.getEncoder().encodeToString(b);
  }

  public Gateway start() throws IOException {
    if (config.authMode() == GatewayConfig.AuthMode.DISABLED) {
      log.warn("!!! AUTHENTICATION IS DISABLED (MESSAGESTORE_AUTH=disabled): every caller is trusted. "
          + "Allowed only because the gateway listens on loopback ({}). Never run this way in production. !!!",
          config.grpcHost());
    }
    postgres.ensureSchema();
    clickhouse.ensureSchema();
    if (!redis.openRequestPath()) {
      log.warn("redis at {}: not every event loop's connection is open; calls on those go around Redis until "
          + "it answers", redis.address());
    }
    monitor.start();
    nearCache.start();
    persisters.start();
    archiver.start();
    consistency.start();
    otherInstances.start();
    watches.start();
    repairs.start();
    repairMarks.start();
    runStates.start();
    metricsServer = new MetricsHttpServer(config.grpcHost(), config.metricsPort(), meters);
    server.start();
    log.info("messagestore gateway listening on {}:{} (metrics on :{}, {} {} event loops), {}", config.grpcHost(),
        port(), metricsServer.port(), eventLoops.size(), eventLoops.transport(), config);
    return this;
  }

  public int port() {
    return server.getPort();
  }

  public int metricsPort() {
    return metricsServer.port();
  }

  public PrometheusMeterRegistry meters() {
    return meters;
  }

  /** The copies of hot Redis values this gateway keeps (see {@link NearCache}). */
  public NearCache nearCache() {
    return nearCache;
  }

  /**
   * Graceful stop: health says NOT_SERVING, no new calls are accepted, in-flight calls get the
   * grace period to finish, persisters commit and acknowledge the batch they hold, then the
   * tiers are closed.
   */
  public void stop() {
    log.info("shutting down: draining in-flight calls for up to {}", config.shutdownGrace());
    health.enterTerminalState();
    server.shutdown();
    // Watches never finish by themselves: end them now, so their callers resume elsewhere.
    watches.close();
    try {
      if (!server.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("in-flight calls did not finish within {}; cancelling them", config.shutdownGrace());
        server.shutdownNow();
        server.awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    failover.close();
    persisters.drain(config.shutdownGrace());
    persisters.close();
    consistency.close();
    archiver.close();
    otherInstances.close();
    monitor.close();
    rebuilder.close();
    repairMarks.close();
    repairs.close();
    runStates.close();
    if (metricsServer != null) {
      metricsServer.close();
    }
    blockingExecutor.shutdown();
    redis.close();
    postgres.close();
    clickhouse.close();
    eventLoops.close();
    log.info("gateway stopped");
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    stop();
  }

  private static java.util.concurrent.ThreadFactory daemon(String prefix) {
    return new ThreadFactoryBuilder().setNameFormat(prefix + "-%d").setDaemon(true).build();
  }
}
