/* test_mpisession.c - common/mpisession.h: SCR_MPI_CHECK evaluates its call exactly once,
 * passes MPI_SUCCESS as SCR_OK and turns a failure into SCR_EMPI (logging MPI's words for
 * it).  The session's start-up and ending are exercised by the integration tests (real
 * mpiexec runs of crawl and check).
 */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/mpisession.h"
#include "test.h"

static int calls;

static int fake_call(int rc)
{
    calls++;
    return rc;
}

TEST(check_evaluates_once)
{
    calls = 0;
    ASSERT_EQ(SCR_MPI_CHECK(fake_call(MPI_SUCCESS)), SCR_OK);
    ASSERT_EQ(calls, 1);
    calls = 0;
    ASSERT_EQ(SCR_MPI_CHECK(fake_call(MPI_ERR_ARG)), SCR_EMPI);
    ASSERT_EQ(calls, 1);
}

TEST(check_in_a_condition)
{
    int rc = SCR_OK, i = 0;

    if ((rc = SCR_MPI_CHECK(fake_call(i++ == 0 ? MPI_ERR_COUNT : MPI_SUCCESS))) != SCR_OK)
        rc = SCR_EMPI;
    ASSERT_EQ(rc, SCR_EMPI);
    ASSERT_EQ(i, 1);
}

int main(void)
{
    RUN(check_evaluates_once);
    RUN(check_in_a_condition);
    fprintf(stderr, "test_mpisession: all passed\n");
    return 0;
}
