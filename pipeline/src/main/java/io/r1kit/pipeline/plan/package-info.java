/** The memory planner: what each stage of a run needs on its device, and the check that refuses a run that cannot fit. */
package io.r1kit.pipeline.plan;
