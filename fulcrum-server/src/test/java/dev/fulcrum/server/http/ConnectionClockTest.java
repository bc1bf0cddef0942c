package dev.fulcrum.server.http;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionClockTest {

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final ConnectionClock clock = new ConnectionClock(channel.eventLoop());
    private final List<String> fired = new ArrayList<>();

    /** Only advanceTimeBy moves the channel's time: a pause of the test's own thread must not fire a part. */
    @BeforeEach
    void freezeTime() {
        channel.freezeTime();
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    /** A part that fires once at its due time. */
    private class Part implements ConnectionClock.Timed {
        final String name;
        long due = ConnectionClock.NONE;

        Part(String name) {
            this.name = name;
            clock.add(this);
        }

        void armIn(long millis) {
            due = clock.now() + TimeUnit.MILLISECONDS.toNanos(millis);
            clock.armed(due);
        }

        @Override
        public long dueNanos() {
            return due;
        }

        @Override
        public void expire(long nowNanos) {
            due = ConnectionClock.NONE;
            fired.add(name);
        }
    }

    private void advance(long millis) {
        channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
    }

    @Test
    void firesEachPartAtItsOwnTime() {
        Part header = new Part("header");
        Part idle = new Part("idle");
        idle.armIn(300);
        header.armIn(100); // earlier than the task: the task moves

        advance(99);
        assertThat(fired).isEmpty();
        advance(1);
        assertThat(fired).containsExactly("header");
        advance(199);
        assertThat(fired).containsExactly("header");
        advance(1);
        assertThat(fired).containsExactly("header", "idle");
    }

    @Test
    void aDeadlinePushedLaterIsCheckedAgainNotFired() {
        Part response = new Part("response");
        response.armIn(100);
        advance(50);
        response.due = clock.now() + TimeUnit.MILLISECONDS.toNanos(100); // progress: later, no re-schedule
        clock.armed(response.due);
        advance(50);
        assertThat(fired).isEmpty(); // the task fired at 100, found 150 and went back to sleep
        advance(50);
        assertThat(fired).containsExactly("response");
    }

    @Test
    void aDisarmedPartNeverFiresAndAClosedClockNothing() {
        Part body = new Part("body");
        Part idle = new Part("idle");
        body.armIn(10);
        body.due = ConnectionClock.NONE;
        idle.armIn(20);
        advance(15);
        assertThat(fired).isEmpty();
        clock.close();
        advance(100);
        assertThat(fired).isEmpty();
    }

    @Test
    void aPartArmedWhileTheClockFiresIsAskedAgainWithTheOthers() {
        Part idle = new Part("idle");
        Part response = new Part("response") {
            @Override
            public void expire(long nowNanos) {
                super.expire(nowNanos);
                if (fired.size() == 1) {
                    armIn(100); // a retry on another server: the window starts again
                }
            }
        };
        response.armIn(50);
        idle.armIn(80);
        advance(50);
        assertThat(fired).containsExactly("response");
        advance(30); // the idle part is due before the re-armed response part: it must not wait for it
        assertThat(fired).containsExactly("response", "idle");
        advance(70);
        assertThat(fired).containsExactly("response", "idle", "response");
    }
}
