package dev.fulcrum.server.cli;

import dev.fulcrum.server.dsr.ServerSetup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.Callable;

/** {@code fulcrum dsr-server-setup --vip ADDR [--apply]}: the server side of Direct Server Return. */
@Command(name = "dsr-server-setup", description = {
        "Prints (or with --apply runs) what a server behind Direct Server Return needs: the virtual IP on "
                + "its loopback and arp_ignore=1, arp_announce=2, so it accepts packets for the virtual IP, "
                + "answers the client from it and never answers ARP for it.",
        "--apply needs root; running it again changes nothing."})
final class DsrServerSetupCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Option(names = "--vip", required = true, paramLabel = "ADDRESS", description = "the virtual IP (IPv4), as dsr.virtual-ip")
    String vip;

    @Option(names = "--apply", description = "run the commands instead of printing them")
    boolean apply;

    @Override
    public Integer call() {
        Inet4Address address = parse(vip);
        if (address == null) {
            System.err.println("fulcrum: --vip: " + "\"" + vip + "\"" + " is not an IPv4 address like 10.0.0.100");
            return Main.EXIT_USAGE;
        }
        ServerSetup setup = new ServerSetup(address);
        if (!apply) {
            System.out.println("# on each server of the DSR pool, as root (or: fulcrum dsr-server-setup --vip "
                    + address.getHostAddress() + " --apply)");
            setup.commands().forEach(System.out::println);
            return 0;
        }
        try {
            setup.apply().forEach(System.out::println);
            return 0;
        } catch (IOException e) {
            System.err.println("fulcrum: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }

    private static Inet4Address parse(String text) {
        if (!text.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return null; // never a DNS lookup
        }
        try {
            return InetAddress.getByName(text) instanceof Inet4Address a ? a : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
