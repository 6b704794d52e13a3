package io.kmsemu.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The scenario file (relative to the working directory) and extra
 * command-line arguments of the kmsemu that {@link KmsemuExtension}
 * starts for a test method or class. Without it: the binary's default
 * scenario.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface KmsemuScenario {
    String value();

    String[] args() default {};
}
