package io.messagestore.server.read;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.lettuce.core.RedisClient;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.RebuildCacheRequest;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.Tier;
import io.messagestore.api.v1.TierStatus;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.PrivateTiersExtension;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.write.MessageIdGenerator;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Reads across Redis, PostgreSQL and ClickHouse, with tiers emptied and stopped for real. */
class TieredReadTest {
  static final int WINDOW = 20;
  @RegisterExtension
  static final PrivateTiersExtension privateTiers = new PrivateTiersExtension();
  PrivateTiers tiers;
  TestGateway gw;

  @BeforeEach
  void startGateway() throws Exception {
    tiers = privateTiers.get();
    gw = TestGateway.startWith(settings(Map.of()));
  }

  Map<String, String> settings(Map<String, String> extra) {
    Map<String, String> s = new java.util.HashMap<>(Map.of("MESSAGESTORE_RECENT_WINDOW", Integer.toString(WINDOW)));
    s.putAll(extra);
    return tiers.settings(s);
  }

  /** Queries against a stalled PostgreSQL wait (for up to a minute) instead of timing out. */
  void restartWithPatientPostgres() throws Exception {
    gw.close();
    gw = TestGateway.startWith(settings(Map.of("MESSAGESTORE_POSTGRES_TIMEOUT", "60s")));
  }

  @AfterEach
  void stopGateway() {
    gw.close();
  }

  static String thread() {
    return "read-" + UUID.randomUUID();
  }

  List<String> send(String thread, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(gw.as("alice").sendMessage(SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER)
          .setContent("m" + i).build()).getMessage().getMessageId());
    }
    return ids;
  }

  void awaitPersisted(String thread, List<String> ids) {
    Poll.until(Duration.ofSeconds(30), "messages persisted", () -> {
      try {
        return Databases.rowCounts(tiers.settings(Map.of()), ids).size() == ids.size();
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    // And trimmed out of the recent window by the persister's follow-up.
    Poll.until(Duration.ofSeconds(10), "index trimmed", () -> redis(c -> c.zcard(keys().recent(thread))) <= WINDOW);
  }

  /** The gateway's Redis key layout, with the stream shard count it runs with. */
  RedisKeys keys() {
    return new RedisKeys(gw.config().streamShards());
  }

  TierStatus tierStatus(Tier tier) {
    return gw.admin().getTierStatus(GetTierStatusRequest.getDefaultInstance()).getTiersList().stream()
        .filter(s -> s.getTier() == tier).findFirst().orElseThrow();
  }

  GetMessageResponse get(String thread, String id) {
    return gw.as("alice").getMessage(GetMessageRequest.newBuilder().setThreadId(thread).setMessageId(id).build());
  }

  /**
   * Runs {@code f} against the gateway's Redis, then waits until the gateway has applied the
   * invalidations it caused (its near cache must not answer from a copy of what f changed).
   */
  <T> T redis(java.util.function.Function<io.lettuce.core.api.sync.RedisCommands<String, String>, T> f) {
    try (RedisClient client = RedisClient.create("redis://127.0.0.1:" + tiers.redisPort); var c = client.connect()) {
      T result = f.apply(c.sync());
      gw.gateway().nearCache().barrier().get(10, TimeUnit.SECONDS);
      return result;
    } catch (Exception e) {
      throw e instanceof RuntimeException r ? r : new RuntimeException(e);
    }
  }

  @Test
  void getMessageIsServedByTheHighestTierThatHasIt() throws Exception {
    String t = thread();
    List<String> ids = send(t, 3);
    assertThat(get(t, ids.get(0)).getServedFrom()).isEqualTo(Tier.TIER_REDIS);

    awaitPersisted(t, ids);
    redis(c -> c.del(keys().message(t, ids.get(0))));
    GetMessageResponse cold = get(t, ids.get(0));
    assertThat(cold.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(cold.getMessage().getContent()).isEqualTo("m0");
    // Read-through refilled Redis.
    assertThat(get(t, ids.get(0)).getServedFrom()).isEqualTo(Tier.TIER_REDIS);

    // A message only the archive has (as the archive job leaves it: copied, then deleted below).
    String archivedId = new MessageIdGenerator(Clock.systemUTC()).next().toString();
    insertIntoArchive(t, archivedId, "from the archive");
    GetMessageResponse archived = get(t, archivedId);
    assertThat(archived.getServedFrom()).isEqualTo(Tier.TIER_CLICKHOUSE);
    assertThat(archived.getMessage().getContent()).isEqualTo("from the archive");
    assertThat(archived.getMessage().getMetadataMap()).containsEntry("source", "archive");

    assertThatThrownBy(() -> get(t, UUID.randomUUID().toString()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  long redisCalls(String command) {
    String stats = redis(c -> c.info("commandstats"));
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("cmdstat_" + command + ":calls=(\\d+)").matcher(stats);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  @Test
  void aHotMessageIsReadFromRedisOnceThenFromTheGatewaysCopyUntilRedisChangesIt() throws Exception {
    String t = thread();
    List<String> ids = send(t, 2);
    long before = redisCalls("mget");

    for (int i = 0; i < 5; i++) {
      GetMessageResponse r = get(t, ids.get(1));
      assertThat(r.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
      assertThat(r.getMessage().getContent()).isEqualTo("m1");
    }
    assertThat(redisCalls("mget") - before).isEqualTo(1);

    // Another user is refused from the copy just as from Redis.
    assertThatThrownBy(() -> gw.as("mallory").getMessage(
        GetMessageRequest.newBuilder().setThreadId(t).setMessageId(ids.get(1)).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));

    awaitPersisted(t, ids);
    redis(c -> c.del(keys().message(t, ids.get(1))));
    assertThat(get(t, ids.get(1)).getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
  }

  @Test
  void aFirstPageIsServedFromTheGatewaysCopyUntilItsThreadChanges() throws Exception {
    String t = thread();
    List<String> ids = send(t, 3);
    assertThat(newestPage(t).getMessagesList()).extracting(Message::getMessageId)
        .containsExactlyElementsOf(reversed(ids));
    long before = redisCalls("zrevrangebylex");
    double fromCopies = firstPages("served_from_copy");

    for (int i = 0; i < 5; i++) {
      ListMessagesResponse page = newestPage(t);
      assertThat(page.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
      assertThat(page.getMessagesList()).extracting(Message::getMessageId).containsExactlyElementsOf(reversed(ids));
    }
    assertThat(redisCalls("zrevrangebylex") - before).isZero();
    assertThat(firstPages("served_from_copy") - fromCopies).isEqualTo(5);

    // The owner is still checked on every read.
    assertThatThrownBy(() -> gw.as("mallory").listMessages(
        ListMessagesRequest.newBuilder().setThreadId(t).setNewestFirst(true).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));

    // A change to the index made by anyone reaches the copy through Redis.
    redis(c -> c.zrem(keys().recent(t), ids.get(2)));
    assertThat(newestPage(t).getMessagesList()).extracting(Message::getMessageId)
        .containsExactly(ids.get(1), ids.get(0));
  }

  double firstPages(String outcome) {
    return gw.gateway().meters().get("messagestore.read.first.pages").tag("outcome", outcome).counter().count();
  }

  @Test
  void aCopiedMessageIsNotServedAsRedisWhileTheRedisReadBreakerIsOpen() throws Exception {
    // Calls to a frozen Redis fail by their time limit: a short one opens the breaker sooner.
    gw.close();
    gw = TestGateway.startWith(settings(Map.of("MESSAGESTORE_REDIS_TIMEOUT", "300ms")));
    String t = thread();
    List<String> ids = send(t, 2);
    awaitPersisted(t, ids);
    assertThat(get(t, ids.get(0)).getServedFrom()).isEqualTo(Tier.TIER_REDIS); // now copied

    // Redis stops answering while every connection stays open: no invalidation, no loss.
    tiers.pauseRedis();
    try {
      // Reads of a message without a copy time out against Redis until the breaker opens.
      Poll.until(Duration.ofSeconds(60), "redis read breaker open", () -> {
        get(t, ids.get(1));
        return tierStatus(Tier.TIER_REDIS)
            .getReadBreakerState().equals("OPEN");
      });

      GetMessageResponse r = get(t, ids.get(0));
      assertThat(r.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
      assertThat(r.getMessage().getContent()).isEqualTo("m0");
    } finally {
      tiers.resumeRedis();
    }
  }

  @Test
  void hotReadsAreAnsweredWhilePostgresHangs() throws Exception {
    String hot = thread();
    String cold = thread();
    List<String> hotIds = send(hot, 3);
    List<String> coldIds = send(cold, 16);
    awaitPersisted(cold, coldIds);
    coldIds.forEach(id -> redis(c -> c.del(keys().message(cold, id))));
    restartWithPatientPostgres();

    tiers.pausePostgres();
    try {
      // Every blocking worker ends up waiting on PostgreSQL.
      List<ListenableFuture<GetMessageResponse>> stuck = new ArrayList<>();
      for (String id : coldIds) {
        stuck.add(gw.asyncAs("alice").withDeadlineAfter(5, TimeUnit.MINUTES)
            .getMessage(GetMessageRequest.newBuilder().setThreadId(cold).setMessageId(id).build()));
      }

      // Redis-served reads never wait behind them: nothing on the call's thread blocks.
      for (int i = 0; i < 30; i++) {
        String id = hotIds.get(i % hotIds.size());
        GetMessageResponse r = gw.as("alice").withDeadlineAfter(1, TimeUnit.MINUTES)
            .getMessage(GetMessageRequest.newBuilder().setThreadId(hot).setMessageId(id).build());
        assertThat(r.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
      }
      assertThat(stuck).as("PostgreSQL reads still waiting").noneMatch(java.util.concurrent.Future::isDone);

      tiers.resumePostgres();
      for (ListenableFuture<GetMessageResponse> f : stuck) {
        assertThat(f.get(2, TimeUnit.MINUTES).getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
      }
    } finally {
      tiers.resumePostgres();
    }
  }

  @Test
  void aPageQueryIsCancelledInPostgresWhenItsCallerGivesUp() throws Exception {
    String t = thread();
    // Longer than the recent window, so its oldest messages are in PostgreSQL only.
    List<String> ids = send(t, WINDOW + 5);
    awaitPersisted(t, ids);
    // Only statement cancellation can end the query below before the test's deadline.
    restartWithPatientPostgres();

    String url = "jdbc:postgresql://127.0.0.1:" + tiers.postgresPort + "/messagestore";
    try (Connection locker = java.sql.DriverManager.getConnection(url, "postgres", "");
        // Its own connection: inside a transaction pg_stat_activity is a snapshot.
        Connection observer = java.sql.DriverManager.getConnection(url, "postgres", "")) {
      locker.setAutoCommit(false);
      locker.createStatement().execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE");

      // Oldest first from the start: below the recent window, so PostgreSQL is asked, and the
      // query waits for the lock.
      ListenableFuture<ListMessagesResponse> page = gw.asyncAs("alice").withDeadlineAfter(5, TimeUnit.MINUTES)
          .listMessages(ListMessagesRequest.newBuilder().setThreadId(t).setPageSize(2).build());
      Poll.until(Duration.ofSeconds(20), "the page query waiting in PostgreSQL", () -> waitingPageQueries(observer) == 1);

      page.cancel(true);
      Poll.until(Duration.ofSeconds(20), "the abandoned page query cancelled in PostgreSQL",
          () -> waitingPageQueries(observer) == 0);
      locker.rollback();
    }
    // The cancellation was not counted against PostgreSQL, and the same page works.
    assertThat(tierStatus(Tier.TIER_POSTGRES).getReadBreakerState())
        .isEqualTo("CLOSED");
    assertThat(gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(t).setPageSize(2).build())
        .getMessagesList()).extracting(Message::getMessageId).containsExactlyElementsOf(ids.subList(0, 2));
  }

  static int waitingPageQueries(Connection c) {
    try (var rs = c.createStatement().executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        + " AND state = 'active' AND query LIKE 'SELECT message_id, thread_id%FROM messages WHERE thread_id%'")) {
      rs.next();
      return rs.getInt(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static void insertIntoArchive(String thread, String id, String content) throws Exception {
    String ch = LocalTiers.shared().get("MESSAGESTORE_CLICKHOUSE_URL");
    String row = "{\"message_id\":\"" + id + "\",\"thread_id\":\"" + thread + "\",\"user_id\":\"alice\",\"role\":1,"
        + "\"content\":\"" + content + "\",\"metadata\":\"{\\\"source\\\":\\\"archive\\\"}\","
        + "\"created_at\":\"2026-01-01 00:00:00\",\"archived_at\":\"2026-01-02 00:00:00\"}";
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(ch + "/"))
        .POST(HttpRequest.BodyPublishers.ofString("INSERT INTO messagestore.messages_archive FORMAT JSONEachRow\n" + row))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @Test
  void listMessagesPagesThroughArchivedPersistedAndUnpersistedMessages() throws Exception {
    String t = thread();
    // Archived messages are the oldest: mint their ids first.
    MessageIdGenerator ids = new MessageIdGenerator(Clock.systemUTC());
    List<String> archived = List.of(ids.next().toString(), ids.next().toString(), ids.next().toString());
    for (String id : archived) {
      insertIntoArchive(t, id, "archived");
    }
    List<String> sent = send(t, 30);
    awaitPersisted(t, sent);
    Databases.count(tiers.settings(Map.of()),
        "WITH u AS (UPDATE threads SET archived_messages = 3 WHERE thread_id = ? RETURNING 1) SELECT count(*) FROM u", t);
    List<String> all = new ArrayList<>(archived);
    all.addAll(sent);

    List<String> seen = new ArrayList<>();
    String token = "";
    java.util.Set<Tier> tiersSeen = new java.util.HashSet<>();
    do {
      ListMessagesResponse page = gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(t)
          .setPageSize(7).setPageToken(token).build());
      page.getMessagesList().forEach(m -> seen.add(m.getMessageId()));
      tiersSeen.add(page.getServedFrom());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(seen).containsExactlyElementsOf(all);
    assertThat(tiersSeen).contains(Tier.TIER_CLICKHOUSE, Tier.TIER_REDIS);
  }

  @Test
  void flushedRedisStillAnswersEveryReadAndRebuildCacheMakesThemHotAgain() throws Exception {
    String t = thread();
    List<String> ids = send(t, 30);
    awaitPersisted(t, ids);
    redis(c -> c.flushall());

    for (String id : ids) {
      GetMessageResponse r = get(t, id);
      assertThat(r.getMessage().getMessageId()).isEqualTo(id);
    }
    assertThat(listAll(t, 8, false)).containsExactlyElementsOf(ids);
    redis(c -> c.flushall());
    assertThat(get(t, ids.get(29)).getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
    redis(c -> c.flushall());

    String job = gw.admin().rebuildCache(RebuildCacheRequest.newBuilder().setThreadId(t).build()).getJobId();
    Poll.until(Duration.ofSeconds(20), "rebuild job done", () -> gw.admin().getTierStatus(GetTierStatusRequest.getDefaultInstance())
        .getCacheRebuildsList().stream().anyMatch(j -> j.getJobId().equals(job) && j.getState().equals("DONE")
            && j.getMessagesLoaded() == WINDOW));
    assertThat(get(t, ids.get(29)).getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    ListMessagesResponse newest = gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(t)
        .setNewestFirst(true).setPageSize(10).build());
    assertThat(newest.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    assertThat(newest.getMessagesList()).extracting(Message::getMessageId)
        .containsExactlyElementsOf(reversed(ids).subList(0, 10));
  }

  static List<String> reversed(List<String> l) {
    List<String> r = new ArrayList<>(l);
    java.util.Collections.reverse(r);
    return r;
  }

  List<String> listAll(String t, int pageSize, boolean newestFirst) {
    List<String> seen = new ArrayList<>();
    String token = "";
    do {
      ListMessagesResponse page = gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(t)
          .setPageSize(pageSize).setNewestFirst(newestFirst).setPageToken(token).build());
      page.getMessagesList().forEach(m -> seen.add(m.getMessageId()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return seen;
  }

  @Test
  void readsFailOverToPostgresWhileRedisIsDownAndReturnWhenItIsBack() throws Exception {
    String t = thread();
    List<String> ids = send(t, 5);
    awaitPersisted(t, ids);
    tiers.stopRedis();
    for (int i = 0; i < 20; i++) {
      GetMessageResponse r = get(t, ids.get(i % 5));
      assertThat(r.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
    }
    assertThat(listAll(t, 2, true)).containsExactlyElementsOf(reversed(ids));
    Poll.until(Duration.ofSeconds(10), "redis read breaker open", () -> tierStatus(Tier.TIER_REDIS).getReadBreakerState().equals("OPEN"));

    tiers.startRedis();
    Poll.until(Duration.ofSeconds(30), "reads served by redis again",
        () -> get(t, ids.get(4)).getServedFrom() == Tier.TIER_REDIS);
    Poll.until(Duration.ofSeconds(30), "redis read breaker closed", () -> {
      get(t, ids.get(4));
      return tierStatus(Tier.TIER_REDIS).getReadBreakerState()
          .equals("CLOSED");
    });
  }

  /** The first page of 50, newest first: a whole thread of fewer messages. */
  ListMessagesResponse newestPage(String t) {
    return gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(t).setNewestFirst(true)
        .setPageSize(50).build());
  }

  @Test
  void withPostgresDownRecentPagesWorkAndOlderPagesAreUnavailable() throws Exception {
    String t = thread();
    List<String> ids = send(t, 50);
    awaitPersisted(t, ids);
    tiers.stopPostgres();
    ListMessagesResponse first = gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(t)
        .setNewestFirst(true).setPageSize(10).build());
    assertThat(first.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    assertThat(first.getMessagesList()).extracting(Message::getMessageId).containsExactlyElementsOf(reversed(ids).subList(0, 10));
    ListMessagesResponse second = gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(t)
        .setNewestFirst(true).setPageSize(10).setPageToken(first.getNextPageToken()).build());
    assertThat(second.getMessagesList()).extracting(Message::getMessageId).containsExactlyElementsOf(reversed(ids).subList(10, 20));
    // The third page reaches below the recent window: no silently short page.
    assertThatThrownBy(() -> gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(t)
        .setNewestFirst(true).setPageSize(10).setPageToken(second.getNextPageToken()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("postgres unavailable").contains("recent messages");
        });
    assertThat(get(t, ids.get(49)).getServedFrom()).isEqualTo(Tier.TIER_REDIS);
  }

  @Test
  void aThreadShorterThanAPageIsListedFromRedisAlone() throws Exception {
    String t = thread();
    List<String> ids = send(t, 5);
    awaitPersisted(t, ids);
    // Without PostgreSQL, a page comes only from what Redis can prove complete.
    tiers.stopPostgres();
    ListMessagesResponse newest = newestPage(t);
    assertThat(newest.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    assertThat(newest.getMessagesList()).extracting(Message::getMessageId).containsExactlyElementsOf(reversed(ids));
    assertThat(newest.getNextPageToken()).isEmpty();
    assertThat(listAll(t, 2, false)).containsExactlyElementsOf(ids);
    assertThat(listAll(t, 2, true)).containsExactlyElementsOf(reversed(ids));
  }

  @Test
  void rebuildCacheMakesAShortThreadListableFromRedisAloneAgain() throws Exception {
    String t = thread();
    List<String> ids = send(t, 5);
    awaitPersisted(t, ids);
    redis(c -> c.flushall());
    String job = gw.admin().rebuildCache(RebuildCacheRequest.newBuilder().setThreadId(t).build()).getJobId();
    Poll.until(Duration.ofSeconds(20), "rebuild job done", () -> gw.admin().getTierStatus(GetTierStatusRequest
        .getDefaultInstance()).getCacheRebuildsList().stream().anyMatch(j -> j.getJobId().equals(job)
            && j.getState().equals("DONE")));
    tiers.stopPostgres();
    ListMessagesResponse newest = newestPage(t);
    assertThat(newest.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    assertThat(newest.getMessagesList()).extracting(Message::getMessageId).containsExactlyElementsOf(reversed(ids));
  }

  @Test
  void aShortThreadWhoseIndexExpiredIsListedFromRedisAloneAfterOneRead() throws Exception {
    String t = thread();
    List<String> ids = send(t, 5);
    awaitPersisted(t, ids);
    // As when the index expires after MESSAGE_TTL without sends.
    redis(c -> c.del(keys().recent(t)));
    ListMessagesResponse merged = newestPage(t);
    assertThat(merged.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(merged.getMessagesList()).extracting(Message::getMessageId).containsExactlyElementsOf(reversed(ids));

    Poll.until(Duration.ofSeconds(20), "the thread back in its recent index",
        () -> newestPage(t).getServedFrom() == Tier.TIER_REDIS);
    tiers.stopPostgres();
    assertThat(listAll(t, 2, false)).containsExactlyElementsOf(ids);
    assertThat(listAll(t, 2, true)).containsExactlyElementsOf(reversed(ids));
  }

  @Test
  void aThreadWhoseOwnerRedisLostIsNotTakenForANewOne() throws Exception {
    String t = thread();
    List<String> before = send(t, 5);
    awaitPersisted(t, before);
    redis(c -> c.flushall());
    // The next send finds no owner in Redis; PostgreSQL knows the thread, so the new index does
    // not claim to hold all of it.
    List<String> all = new ArrayList<>(before);
    all.addAll(send(t, 1));
    ListMessagesResponse newest = newestPage(t);
    assertThat(newest.getMessagesList()).extracting(Message::getMessageId).containsExactlyElementsOf(reversed(all));
    assertThat(newest.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
  }

  @Test
  void hundredConcurrentMissesForOneMessageCauseOnePostgresQuery() throws Exception {
    String t = thread();
    List<String> ids = send(t, 1);
    awaitPersisted(t, ids);
    redis(c -> c.del(keys().message(t, ids.get(0))));
    double before = lookups();
    List<ListenableFuture<GetMessageResponse>> calls = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      calls.add(gw.asyncAs("alice").withDeadlineAfter(10, TimeUnit.SECONDS)
          .getMessage(GetMessageRequest.newBuilder().setThreadId(t).setMessageId(ids.get(0)).build()));
    }
    for (var c : calls) {
      assertThat(c.get(10, TimeUnit.SECONDS).getMessage().getMessageId()).isEqualTo(ids.get(0));
    }
    assertThat(lookups() - before).isEqualTo(1.0);
  }

  @Test
  void aMessageIsOnlyFoundThroughItsOwnThread() throws Exception {
    String a = thread();
    String b = thread();
    List<String> inA = send(a, 1);
    send(b, 1);
    awaitPersisted(a, inA);
    redis(c -> c.del(keys().message(a, inA.get(0))));
    // Concurrent lookups of the same id through two threads must not share an answer.
    var viaA = gw.asyncAs("alice").getMessage(GetMessageRequest.newBuilder().setThreadId(a).setMessageId(inA.get(0)).build());
    var viaB = gw.asyncAs("alice").getMessage(GetMessageRequest.newBuilder().setThreadId(b).setMessageId(inA.get(0)).build());
    assertThat(viaA.get(10, TimeUnit.SECONDS).getMessage().getThreadId()).isEqualTo(a);
    assertThatThrownBy(() -> viaB.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("NOT_FOUND");
  }

  double lookups() {
    return gw.gateway().meters().get("messagestore.read.lookups").tag("tier", "postgres").counter().count();
  }

  @Test
  void forgedOrForeignCursorIsInvalidArgument() {
    String t = thread();
    String other = thread();
    send(t, 5);
    send(other, 5);
    String token = gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(t).setPageSize(2).build())
        .getNextPageToken();
    for (ListMessagesRequest bad : List.of(
        ListMessagesRequest.newBuilder().setThreadId(other).setPageToken(token).build(),
        ListMessagesRequest.newBuilder().setThreadId(t).setNewestFirst(true).setPageToken(token).build(),
        ListMessagesRequest.newBuilder().setThreadId(t).setPageToken(token.substring(0, token.length() - 2) + "AA").build(),
        ListMessagesRequest.newBuilder().setThreadId(t).setPageToken("%%%not-base64").build(),
        ListMessagesRequest.newBuilder().setThreadId(t).setPageSize(1001).build())) {
      assertThatThrownBy(() -> gw.as("alice").listMessages(bad))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }
  }

  @Test
  void listThreadsShowsTheCallersThreadsMostRecentFirstWithCounts() throws Exception {
    String older = thread();
    String newer = thread();
    List<String> a = send(older, 3);
    List<String> b = send(newer, 2);
    awaitPersisted(older, a);
    awaitPersisted(newer, b);
    Poll.until(Duration.ofSeconds(10), "thread list reflects both threads", () -> {
      var threads = gw.as("alice").listThreads(ListThreadsRequest.newBuilder().setPageSize(1000).build()).getThreadsList();
      var mine = threads.stream().filter(x -> x.getThreadId().equals(older) || x.getThreadId().equals(newer)).toList();
      return mine.size() == 2 && mine.get(0).getThreadId().equals(newer) && mine.get(0).getMessageCount() == 2
          && mine.get(1).getMessageCount() == 3;
    });
    assertThat(gw.as("bob").listThreads(ListThreadsRequest.getDefaultInstance()).getThreadsList())
        .noneMatch(x -> x.getThreadId().equals(older) || x.getThreadId().equals(newer));
  }

  @Test
  void aPolledThreadListIsAnsweredFromTheGatewaysCopyUntilItsUserWritesAgain() throws Exception {
    String first = thread();
    awaitPersisted(first, send(first, 1));
    ListThreadsRequest request = ListThreadsRequest.newBuilder().setPageSize(1000).build();
    Poll.until(Duration.ofSeconds(10), "the list cached in Redis and kept here", () -> {
      long before = redisCalls("hget");
      boolean listed = gw.as("alice").listThreads(request).getThreadsList().stream()
          .anyMatch(x -> x.getThreadId().equals(first));
      return listed && redisCalls("hget") == before;
    });
    long hgets = redisCalls("hget");

    for (int i = 0; i < 5; i++) {
      assertThat(gw.as("alice").listThreads(request).getThreadsList()).anyMatch(x -> x.getThreadId().equals(first));
    }
    assertThat(redisCalls("hget")).isEqualTo(hgets);

    // A commit of the user's messages drops the list in Redis, and with it the copy.
    String second = thread();
    awaitPersisted(second, send(second, 1));
    Poll.until(Duration.ofSeconds(10), "the new thread at the top of the list",
        () -> gw.as("alice").listThreads(request).getThreads(0).getThreadId().equals(second));
  }
}
