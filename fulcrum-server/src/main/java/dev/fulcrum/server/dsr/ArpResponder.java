package dev.fulcrum.server.dsr;

import dev.fulcrum.core.net.ArpMessage;
import dev.fulcrum.linux.ArpSocket;
import dev.fulcrum.linux.NativeException;
import dev.fulcrum.server.net.LinkInterface;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.util.Optional;

/**
 * {@code dsr.answer-arp}: answers ARP requests for the virtual IP with this interface's MAC, so
 * neighbours on the network send traffic for it here without a route — the balancer does not
 * hold the address (its stack would answer the packets), and the kernel's proxy ARP needs IP
 * forwarding, which DSR must not have. Announces the address with 3 gratuitous ARPs at start.
 * One platform thread of its own.
 */
final class ArpResponder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ArpResponder.class);

    private final ArpSocket socket;
    private final LinkInterface nic;
    private final Inet4Address virtualIp;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long answered;

    private ArpResponder(ArpSocket socket, LinkInterface nic, Inet4Address virtualIp) {
        this.socket = socket;
        this.nic = nic;
        this.virtualIp = virtualIp;
        this.thread = Thread.ofPlatform().name("fulcrum-dsr-arp").daemon(true).unstarted(this::run);
    }

    static ArpResponder start(LinkInterface nic, Inet4Address virtualIp) throws NativeException {
        ArpResponder r = new ArpResponder(ArpSocket.openListening(nic.name(), nic.index()), nic, virtualIp);
        byte[] announcement = ArpMessage.announcement(nic.mac(), virtualIp);
        for (int i = 0; i < 3; i++) {
            r.socket.send(announcement, ArpSocket.BROADCAST);
        }
        r.thread.start();
        return r;
    }

    /** Requests answered so far. */
    long answered() {
        return answered;
    }

    private void run() {
        byte[] buf = new byte[256];
        try {
            while (running) {
                int n = socket.receive(buf, 500_000_000L);
                if (n == 0) {
                    continue;
                }
                Optional<ArpMessage.Decoded> m = ArpMessage.decode(buf, n);
                if (m.isPresent() && m.get().isRequest() && m.get().target().equals(virtualIp)) {
                    ArpMessage.Decoded request = m.get();
                    socket.send(ArpMessage.reply(nic.mac(), virtualIp, request.senderMac(), request.sender()),
                            request.senderMac());
                    answered++;
                }
            }
        } catch (NativeException | RuntimeException e) {
            log.error("dsr: ARP responder stopped: {}", e.toString());
        } finally {
            socket.close();
        }
    }

    @Override
    public void close() {
        running = false;
        socket.wakeup();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
