// pgjdbc against a pgconn `--format jdbc` URL (tests/drivers.rs).
//
// usage: DRIVER_URL=... java -cp /usr/share/java/postgresql.jar JdbcCheck.java whoami|pool
//
// DRIVER_URL is the URL exactly as `pgconn url` printed it (it holds the
// password, so it never goes on the command line). DRIVER_ROUNDS:
// transactions per connection in `pool` (default 12).

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;

public class JdbcCheck {
    static final String QUERY = "select ?::int + 1, pg_backend_pid()";

    static void run(PreparedStatement ps, int i, Set<Integer> pids) throws Exception {
        ps.setInt(1, i);
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (rs.getInt(1) != i + 1) throw new IllegalStateException("wrong answer for " + i);
            pids.add(rs.getInt(2));
        }
    }

    public static void main(String[] args) {
        String url = System.getenv("DRIVER_URL");
        String mode = args.length > 0 ? args[0] : "whoami";
        int rounds = Integer.parseInt(System.getenv().getOrDefault("DRIVER_ROUNDS", "12"));
        try {
            if (mode.equals("whoami")) {
                try (Connection c = DriverManager.getConnection(url);
                        Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("select current_user")) {
                    rs.next();
                    System.out.println("current_user=" + rs.getString(1));
                }
            } else if (mode.equals("pool")) {
                // see psycopg_check.py: interleaved transactions on two connections, B one ahead
                try (Connection a = DriverManager.getConnection(url);
                        Connection b = DriverManager.getConnection(url)) {
                    a.setAutoCommit(false);
                    b.setAutoCommit(false);
                    PreparedStatement pa = a.prepareStatement(QUERY);
                    PreparedStatement pb = b.prepareStatement(QUERY);
                    Set<Integer> pidsA = new HashSet<>();
                    Set<Integer> pidsB = new HashSet<>();
                    run(pb, -1, pidsB);
                    b.commit();
                    for (int i = 0; i < rounds; i++) {
                        run(pa, i, pidsA);
                        run(pb, i, pidsB);
                        a.commit();
                        b.commit();
                    }
                    System.out.println("prepareThreshold=" + pa.unwrap(org.postgresql.PGStatement.class).getPrepareThreshold());
                    System.out.println("backend_pids_a=" + pidsA.size() + " backend_pids_b=" + pidsB.size());
                    System.out.println("pool ok rounds=" + rounds);
                }
            } else {
                System.err.println("unknown mode " + mode);
                System.exit(2);
            }
        } catch (Exception e) {
            System.err.println("error: " + e.getClass().getName() + ": " + e.getMessage());
            Throwable cause = e.getCause();
            while (cause != null) {
                System.err.println("caused by: " + cause.getClass().getName() + ": " + cause.getMessage());
                cause = cause.getCause();
            }
            System.exit(1);
        }
    }
}
