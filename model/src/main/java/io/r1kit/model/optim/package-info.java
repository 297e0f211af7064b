/**
 * Optimisation: {@link io.r1kit.model.optim.AdamW} with parameter groups and exportable state,
 * {@link io.r1kit.model.optim.GradClip} (global-norm clipping) and
 * {@link io.r1kit.model.optim.LrSchedule}s.
 */
package io.r1kit.model.optim;
