package mediana.solr;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Serves a Solr home over HTTP on 127.0.0.1 with Solr's own embedded Jetty runner (the one
 * Solr's integration tests use), so the CKAN test peers talk to a real, unmodified Solr 9.
 *
 * <pre>java -cp 'classes:lib/*' mediana.solr.SolrLauncher SOLR_HOME PORT PORT_FILE</pre>
 *
 * PORT 0 lets the kernel pick a free port, which avoids the race of choosing one beforehand;
 * the bound port is written to PORT_FILE (atomically, via a rename) once Jetty serves and the
 * cores have finished loading, so the caller can wait for that file. SIGTERM stops Jetty and
 * closes the cores cleanly (a shutdown hook), then the JVM exits.
 */
public final class SolrLauncher {
  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: SolrLauncher SOLR_HOME PORT PORT_FILE");
      System.exit(2);
    }
    String home = args[0];
    int port = Integer.parseInt(args[1]);
    Path portFile = Path.of(args[2]);

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
        + " serving " + home + " at http://127.0.0.1:" + bound + "/solr");
    stopped.await();
  }

  /** Solr's version, from the manifest of the jar the runner was loaded from. */
  private static String solrVersion() {
    String v = JettySolrRunner.class.getPackage().getImplementationVersion();
    return v == null ? "(unknown version)" : v.split(" ")[0];
  }
}
