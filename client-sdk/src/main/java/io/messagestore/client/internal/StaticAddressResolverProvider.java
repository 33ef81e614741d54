package io.messagestore.client.internal;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Resolves {@code static:///host1:port1,host2:port2} to those addresses, each its own
 * subchannel so that round-robin spreads calls over them. Host names are looked up again on
 * every refresh (after a connection failure), so an instance that moved is found.
 */
public final class StaticAddressResolverProvider extends NameResolverProvider {
  /** The URI scheme of a list of gateways. */
  public static final String SCHEME = "static";

  private static final StaticAddressResolverProvider INSTANCE = new StaticAddressResolverProvider();
  private static volatile boolean registered;

  /**
   * Registered from code rather than through META-INF/services, which a shading or
   * native-image build can drop without anyone noticing.
   */
  static void registerOnce() {
    if (!registered) {
      synchronized (StaticAddressResolverProvider.class) {
        if (!registered) {
          NameResolverRegistry.getDefaultRegistry().register(INSTANCE);
          registered = true;
        }
      }
    }
  }

  /**
   * Splits a comma-separated {@code host:port} list.
   *
   * @throws IllegalArgumentException naming the entry that is not {@code host:port}
   */
  public static List<HostAndPort> parse(String list) {
    List<HostAndPort> out = new ArrayList<>();
    for (String raw : list.split(",")) {
      String entry = raw.strip();
      int colon = entry.lastIndexOf(':');
      if (entry.isEmpty() || colon <= 0 || colon == entry.length() - 1) {
        throw new IllegalArgumentException("gateway '" + entry + "' in target '" + list
            + "' is not host:port");
      }
      int port;
      try {
        port = Integer.parseInt(entry.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("gateway '" + entry + "' in target '" + list
            + "' has no port between 1 and 65535");
      }
      String host = entry.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      out.add(new HostAndPort(host, port));
    }
    return out;
  }

  /** One gateway of a list. */
  public record HostAndPort(String host, int port) {}

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }

  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    String path = targetUri.getPath();
    List<HostAndPort> gateways = parse(path.startsWith("/") ? path.substring(1) : path);
    return new Resolver(targetUri.toString(), gateways, args);
  }

  private static final class Resolver extends NameResolver {
    private final String authority;
    private final List<HostAndPort> gateways;
    private final NameResolver.Args args;
    private Listener2 listener;

    Resolver(String target, List<HostAndPort> gateways, NameResolver.Args args) {
      // The authority goes into :authority and TLS host name checks: the first gateway's.
      this.authority = gateways.get(0).host() + ":" + gateways.get(0).port();
      this.gateways = gateways;
      this.args = args;
    }

    @Override
    public String getServiceAuthority() {
      return authority;
    }

    @Override
    public void start(Listener2 listener) {
      this.listener = listener;
      resolve();
    }

    @Override
    public void refresh() {
      resolve();
    }

    private void resolve() {
      // Name lookups block: off the channel's synchronization context.
      args.getOffloadExecutor().execute(() -> {
        List<EquivalentAddressGroup> groups = new ArrayList<>();
        List<String> unresolved = new ArrayList<>();
        for (HostAndPort gateway : gateways) {
          InetSocketAddress address = new InetSocketAddress(gateway.host(), gateway.port());
          if (address.isUnresolved()) {
            unresolved.add(gateway.host());
          } else {
            groups.add(new EquivalentAddressGroup(address));
          }
        }
        args.getSynchronizationContext().execute(() -> {
          if (groups.isEmpty()) {
            listener.onError(Status.UNAVAILABLE.withDescription(
                "no gateway address could be resolved: " + unresolved));
          } else {
            listener.onResult(ResolutionResult.newBuilder().setAddressesOrError(
                io.grpc.StatusOr.fromValue(groups)).build());
          }
        });
      });
    }

    @Override
    public void shutdown() {}
  }
}
