package mediana.solr;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Serves a Solr home over HTTP with Solr's own embedded Jetty runner (the one Solr's
 * integration tests use): a real, unmodified Solr 9 from Maven Central's jars, for the image
 * (images/solr, on 0.0.0.0:8983) and for the CKAN test peers (tests/ckan, on 127.0.0.1).
 *
 * <pre>java -cp 'classes:lib/*' mediana.solr.SolrLauncher SOLR_HOME HOST PORT PORT_FILE</pre>
 *
 * The runner binds 127.0.0.1 whatever it is told, which a pod cannot serve from, so HOST is set
 * on its connectors before it starts (see {@link #bind}).
 *
 * PORT 0 lets the kernel pick a free port, which avoids the race of choosing one beforehand;
 * the bound port is written to PORT_FILE (atomically, via a rename) once Jetty serves and the
 * cores have finished loading, so the caller can wait for that file. SIGTERM stops Jetty and
 * closes the cores cleanly (a shutdown hook), then the JVM exits.
 */
public final class SolrLauncher {
  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: SolrLauncher SOLR_HOME HOST PORT PORT_FILE");
      System.exit(2);
    }
    String home = args[0];
    String host = args[1];
    int port = Integer.parseInt(args[2]);
    Path portFile = Path.of(args[3]);

    JettyConfig config =
        JettyConfig.builder()
            .setPort(port)
            .setContext("/solr")
            // We stop it ourselves in the hook below, after which the JVM may exit.
            .stopAtShutdown(false)
            // start() returns only once every core in the home has loaded (or failed to).
            .waitForLoadingCoresToFinish(120_000L)
            .build();
    JettySolrRunner solr = new JettySolrRunner(home, config);
    bind(solr, host);

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    solr.stop();
                  } catch (Exception e) {
                    e.printStackTrace();
                  } finally {
                    stopped.countDown();
                  }
                },
                "solr-launcher-stop"));

    solr.start();
    int bound = solr.getLocalPort();
    Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
    Files.writeString(tmp, bound + "\n", StandardCharsets.US_ASCII);
    Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    System.err.println("mediana SolrLauncher: Solr " + SolrLauncher.solrVersion()
        + " serving " + home + " at http://" + host + ":" + bound + "/solr");
    stopped.await();
  }

  /**
   * Sets the address the runner's connectors will listen on. JettySolrRunner (9.10) creates its
   * Jetty server in the constructor, with the host fixed to 127.0.0.1 and no accessor; the
   * connectors are not open until start(), so setting their host here is all it takes. The
   * Solr version is pinned in pom.xml, and a runner without the field fails loudly here.
   */
  private static void bind(JettySolrRunner solr, String host) throws ReflectiveOperationException {
    Field field = JettySolrRunner.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(solr);
    for (Connector connector : server.getConnectors()) {
      ((ServerConnector) connector).setHost(host);
    }
  }

  /** Solr's version, from the manifest of the jar the runner was loaded from. */
  private static String solrVersion() {
    String v = JettySolrRunner.class.getPackage().getImplementationVersion();
    return v == null ? "(unknown version)" : v.split(" ")[0];
  }
}
