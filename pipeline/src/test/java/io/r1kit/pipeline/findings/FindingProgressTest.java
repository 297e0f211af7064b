package io.r1kit.pipeline.findings;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The remaining-time estimate printed between a finding's runs. */
class FindingProgressTest {
    @Test
    void theFirstRunWhichPaysForSharedStagesIsLeftOutOnceOthersAreMeasured() {
        assertEquals(4 * 600.0, Finding.Progress.estimateRemaining(List.of(600.0), 4), 1e-9, "only the first run measured: its time");
        assertEquals(3 * 150.0, Finding.Progress.estimateRemaining(List.of(900.0, 100.0, 200.0), 3), 1e-9,
                "the first run's 900 s include the pretraining the others borrow");
        assertEquals(0.0, Finding.Progress.estimateRemaining(List.of(900.0, 100.0), 0), 1e-9);
    }

    @Test
    void durationsArePrintedInMinutesAndSeconds() {
        assertEquals("42 s", Finding.Progress.minutes(42.4));
        assertEquals("12 min 05 s", Finding.Progress.minutes(725));
    }
}
