package io.r1kit.grpo.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The user documentation of one config option, on the record component that holds it. It is the
 * single source of the option reference: {@code bin/r1kit docs config} writes {@code docs/config.md}
 * from these annotations and from the defaults of the record itself (its constructor called with every
 * component null), and a test fails when an option has no {@code Doc} or when the committed page is stale.
 * Text is Markdown; the default is not repeated here.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Doc {
    /** What the option does, in Markdown (one paragraph). */
    String value();

    /**
     * What an absent value means, when that is not a plain value of the default instance: "required",
     * "= `epsilon`", "the previous stage's model". Empty: the default instance's value is shown.
     */
    String unset() default "";

    /** Where the option comes from when it follows a paper or a peer: "TRL", "DAPO", "Dr. GRPO", "R1 §2.3". */
    String source() default "";
}
