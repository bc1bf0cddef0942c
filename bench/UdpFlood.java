import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * UDP generator for bench/dsr.sh: sends 64-byte datagrams to HOST:PORT from FLOWS sockets (so
 * from FLOWS source ports: that many DSR flows) on THREADS threads for SECONDS, then prints the
 * number sent. Run with the JDK's source launcher: java UdpFlood.java HOST PORT SECONDS THREADS FLOWS
 */
public class UdpFlood {
    public static void main(String[] args) throws Exception {
        InetSocketAddress to = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        long seconds = Long.parseLong(args[2]);
        int threads = Integer.parseInt(args[3]);
        int flows = Integer.parseInt(args[4]);
        LongAdder sent = new LongAdder();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int first = t;
            all.add(Thread.ofPlatform().start(() -> {
                try {
                    List<DatagramChannel> sockets = new ArrayList<>();
                    for (int i = first; i < flows; i += threads) {
                        // unconnected: the servers' ICMP port-unreachable answers must not stop the flood
                        DatagramChannel c = DatagramChannel.open();
                        c.bind(null);
                        sockets.add(c);
                    }
                    ByteBuffer payload = ByteBuffer.allocateDirect(64);
                    long n = 0;
                    while (System.nanoTime() < end) {
                        for (DatagramChannel c : sockets) {
                            payload.clear();
                            c.send(payload, to);
                            n++;
                        }
                    }
                    sent.add(n);
                } catch (Exception e) {
                    System.err.println("udpflood: " + e);
                }
            }));
        }
        for (Thread t : all) {
            t.join();
        }
        System.out.println(sent.sum());
    }
}
