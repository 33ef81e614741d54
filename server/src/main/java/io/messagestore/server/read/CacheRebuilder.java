package io.messagestore.server.read;

import io.messagestore.api.v1.CacheRebuildStatus;
import io.messagestore.api.v1.Message;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.QueryCancellation;
import io.messagestore.server.postgres.PostgresThreadStore;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RecentIndex;
import io.messagestore.server.redis.RedisTier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms Redis from PostgreSQL after a Redis loss: for each thread, its owner and its newest
 * messages (the recent window) go back into Redis, so reads that were correct but slow (served
 * by PostgreSQL) are fast again. A thread that fits the window whole gets the thread-start
 * marker too, so its pages need no PostgreSQL query. Runs in the background, one job at a time;
 * progress shows in GetTierStatus.
 */
public final class CacheRebuilder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CacheRebuilder.class);
  private static final int KEPT_JOBS = 20;
  private static final long REDIS_WAIT_SECONDS = 5;

  private final RedisTier redis;
  private final RedisKeys keys;
  private final PostgresMessageStore messages;
  private final PostgresThreadStore threads;
  private final RecentIndex recentIndex;
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "cache-rebuild");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, Job> jobs = Collections.synchronizedMap(new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Job> eldest) {
      return size() > KEPT_JOBS;
    }
  });

  public CacheRebuilder(RedisTier redis, RedisKeys keys, PostgresMessageStore messages, PostgresThreadStore threads,
      RecentIndex recentIndex) {
    this.redis = redis;
    this.keys = keys;
    this.messages = messages;
    this.threads = threads;
    this.recentIndex = recentIndex;
  }

  /** Progress of one job; counters are read while the job runs. */
  private static final class Job {
    final String id;
    volatile String state = "QUEUED";
    final AtomicLong threadsDone = new AtomicLong();
    volatile long threadsTotal;
    final AtomicLong messagesLoaded = new AtomicLong();

    Job(String id) {
      this.id = id;
    }
  }

  /** Queues a rebuild of one thread, or of the {@code recentThreads} most recently active ones. */
  public String start(Optional<String> threadId, int recentThreads) {
    Job job = new Job(UUID.randomUUID().toString());
    jobs.put(job.id, job);
    worker.submit(() -> run(job, threadId, recentThreads));
    return job.id;
  }

  private void run(Job job, Optional<String> threadId, int recentThreads) {
    job.state = "RUNNING";
    try {
      List<String> todo = threadId.isPresent() ? List.of(threadId.get()) : threads.recentlyActive(recentThreads);
      job.threadsTotal = todo.size();
      for (String t : todo) {
        job.messagesLoaded.addAndGet(warm(t));
        job.threadsDone.incrementAndGet();
      }
      job.state = "DONE";
      log.info("cache rebuild {}: {} threads, {} messages", job.id, job.threadsDone.get(), job.messagesLoaded.get());
    } catch (Exception e) {
      job.state = "FAILED: " + e.getMessage();
      log.warn("cache rebuild {} failed after {} threads: {}", job.id, job.threadsDone.get(), e.toString());
    }
  }

  private long warm(String threadId) throws Exception {
    Optional<String> owner = messages.owner(threadId);
    if (owner.isEmpty()) {
      return 0;
    }
    PostgresMessageStore.Page page = messages.pageWithArchiveCount(threadId, null, null, recentIndex.window(), true,
        QueryCancellation.NONE);
    List<Message> newest = page.messages();
    var cmd = redis.async();
    List<CompletionStage<?>> writes = new ArrayList<>();
    writes.add(cmd.setnx(keys.owner(threadId), owner.get().getBytes(StandardCharsets.UTF_8)));
    writes.addAll(recentIndex.load(cmd, threadId, newest));
    for (CompletionStage<?> f : writes) {
      f.toCompletableFuture().get(REDIS_WAIT_SECONDS, TimeUnit.SECONDS);
    }
    if (recentIndex.isWholeThread(true, newest.size(), recentIndex.window(), page.archivedMessages())) {
      // The whole thread fits the window: mark the index so that its short pages are served
      // from Redis alone, as for a thread the index has held from its first message.
      recentIndex.markThreadStart(cmd, threadId, newest.get(newest.size() - 1).getMessageId()).toCompletableFuture()
          .get(REDIS_WAIT_SECONDS, TimeUnit.SECONDS);
    }
    return newest.size();
  }

  public List<CacheRebuildStatus> statuses() {
    List<CacheRebuildStatus> out = new ArrayList<>();
    synchronized (jobs) {
      for (Job j : jobs.values()) {
        out.add(CacheRebuildStatus.newBuilder().setJobId(j.id).setState(j.state).setThreadsDone(j.threadsDone.get())
            .setThreadsTotal(j.threadsTotal).setMessagesLoaded(j.messagesLoaded.get()).build());
      }
    }
    return out;
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
