package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.autoscale.Sample;

import java.util.Collection;
import java.util.List;

/**
 * Where the auto-scaler's samples come from: {@link MetricScraper} in production (HTTP), a
 * scripted source in tests that run the auto-scaler in simulated time. Thread-safe.
 */
interface MetricReadings extends AutoCloseable {

    /** Starts one reading of each of {@code servers}; returns at once. Forgets servers not listed. */
    void scrape(Collection<HostPort> servers);

    /** The samples kept (the window's), oldest first. */
    List<Sample> samples();

    @Override
    void close();
}
