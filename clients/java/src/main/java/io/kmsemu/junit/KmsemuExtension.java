package io.kmsemu.junit;

import java.lang.reflect.AnnotatedElement;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Hands a test a running {@link Kmsemu}: {@code @ExtendWith(KmsemuExtension.class)},
 * then a {@code Kmsemu} parameter. A test method's parameter (and its
 * {@code @BeforeEach}/{@code @AfterEach} methods') share one kmsemu that
 * stops when the test ends; a static {@code @BeforeAll} method's, one per
 * class. A kmsemu that does not exit with status 0 fails the test with
 * its stderr. The scenario comes from {@link KmsemuScenario}.
 */
public class KmsemuExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(KmsemuExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Kmsemu.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        // The store closes it, and so stops kmsemu, when the context ends.
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(Kmsemu.class, k -> start(context), Kmsemu.class);
    }

    private static Kmsemu start(ExtensionContext context) {
        Optional<KmsemuScenario> scenario = find(context.getElement());
        for (Optional<Class<?>> c = context.getTestClass(); scenario.isEmpty() && c.isPresent();
                c = Optional.ofNullable(c.get().getEnclosingClass())) {
            scenario = find(c);
        }
        return Kmsemu.start(scenario.map(KmsemuScenario::value).orElse(null),
                scenario.map(s -> List.of(s.args())).orElse(List.of()));
    }

    private static Optional<KmsemuScenario> find(Optional<? extends AnnotatedElement> element) {
        return AnnotationSupport.findAnnotation(element, KmsemuScenario.class);
    }
}
