package io.messagestore.server.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A Lua script from the classpath, run by its SHA and loaded again when Redis does not know it
 * (after a restart or a SCRIPT FLUSH), so the common case sends only the SHA.
 */
public final class RedisScript {
  private final String resource;
  private final byte[] body;
  private final String sha;

  private RedisScript(String resource, byte[] body) {
    this.resource = resource;
    this.body = body;
    this.sha = sha1Hex(body);
  }

  /**
   * @param resource classpath location, e.g. {@code /redis/send.lua}
   * @param preludes Lua source put before the script, in this order: the constants and
   *     functions it shares with other scripts (see {@link RecentIndex#LUA_CONSTANTS})
   */
  public static RedisScript load(String resource, String... preludes) {
    StringBuilder body = new StringBuilder();
    for (String p : preludes) {
      body.append(p);
    }
    body.append(source(resource));
    return new RedisScript(resource, body.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** The text of a Lua file on the classpath. */
  static String source(String resource) {
    try (InputStream in = RedisScript.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs the script; the reply is a (possibly nested) list of byte arrays, longs and nulls. */
  public CompletionStage<List<Object>> run(RedisAsyncCommands<String, byte[]> cmd, String[] keys, byte[]... args) {
    CompletableFuture<List<Object>> result = new CompletableFuture<>();
    cmd.<List<Object>>evalsha(sha, ScriptOutputType.MULTI, keys, args).whenComplete((v, e) -> {
      if (e == null) {
        result.complete(v);
      } else if (e instanceof RedisNoScriptException || e.getCause() instanceof RedisNoScriptException) {
        cmd.<List<Object>>eval(body, ScriptOutputType.MULTI, keys, args).whenComplete((v2, e2) -> {
          if (e2 == null) {
            result.complete(v2);
          } else {
            result.completeExceptionally(e2);
          }
        });
      } else {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  @Override
  public String toString() {
    return resource + " (sha " + sha + ")";
  }

  private static String sha1Hex(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
