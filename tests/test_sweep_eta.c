/* test_sweep_eta.c - the sweep's ETA against hand-worked cases: a serial sweep, two job
 * slots with a second node nearly done, nodes in flight past their mean, fewer nodes left
 * than slots, and nodes that run alone adding their time after the rest. */
#include <criterion/criterion.h>

#include <math.h>

#include "engine/sweep_eta.h"

#define EXPECT_SECONDS(got, want) \
    cr_expect(fabs((got) - (want)) < 1e-9, "ETA %g s, expected %g", (got), (double)(want))

Test(sweep_eta, serial_sweep_is_mean_times_nodes_left) {
    const pl_eta_kind kind = {.mean = 10.0, .waiting = 3};
    EXPECT_SECONDS(pl_sweep_eta(&kind, 1, 1), 30.0);
}

Test(sweep_eta, two_slots_count_the_node_beside_the_first_as_nearly_done) {
    /* The bf16_tiny case: 6 pretrain stages of ~570 s and 6 evaluations of ~5 s, 2 jobs.
     * When the first run ends the second pretrain is 570 s in: work left 0 + 4 x 570 + 5 x 5
     * over 2 slots, 1152.5 s (elapsed per finished run said 575 x 5 = 2875). */
    const double ages[1] = {570.0};
    const pl_eta_kind kinds[2] = {{.mean = 570.0, .waiting = 4, .running = 1, .ages = ages},
                                  {.mean = 5.0, .waiting = 5}};
    EXPECT_SECONDS(pl_sweep_eta(kinds, 2, 2), 1152.5);
}

Test(sweep_eta, a_node_in_flight_adds_what_is_left_of_its_mean) {
    /* mean 100, in flight for 30 and 250 s (the latter past the mean: nothing added), 2
     * waiting, 2 slots: (70 + 0 + 200) / 2 */
    const double ages[2] = {30.0, 250.0};
    const pl_eta_kind kind = {.mean = 100.0, .waiting = 2, .running = 2, .ages = ages};
    EXPECT_SECONDS(pl_sweep_eta(&kind, 1, 2), 135.0);
}

Test(sweep_eta, fewer_nodes_left_than_slots_use_only_as_many) {
    const pl_eta_kind one = {.mean = 40.0, .waiting = 1};
    EXPECT_SECONDS(pl_sweep_eta(&one, 1, 4), 40.0);
    const double ages[1] = {10.0};
    const pl_eta_kind inflight = {.mean = 40.0, .running = 1, .ages = ages};
    EXPECT_SECONDS(pl_sweep_eta(&inflight, 1, 4), 30.0);
}

Test(sweep_eta, nodes_that_run_alone_add_their_time_after_the_rest) {
    /* The quickstart case with 2 jobs: its runs time a bench stage, so their evaluations
     * run one by one after the model stages. 8 left at 3 s: 24 s whatever the slots; with 2
     * finetunes of 10 s still waiting: 10 + 24. */
    pl_eta_kind kinds[2] = {{.mean = 3.0, .alone = true, .waiting = 8}, {.mean = 10.0}};
    EXPECT_SECONDS(pl_sweep_eta(kinds, 2, 2), 24.0);
    kinds[1].waiting = 2;
    EXPECT_SECONDS(pl_sweep_eta(kinds, 2, 2), 34.0);
}

Test(sweep_eta, nothing_left_is_zero) {
    const pl_eta_kind none = {.mean = 40.0};
    EXPECT_SECONDS(pl_sweep_eta(&none, 1, 2), 0.0);
    EXPECT_SECONDS(pl_sweep_eta(&none, 1, 0), 0.0);
}
