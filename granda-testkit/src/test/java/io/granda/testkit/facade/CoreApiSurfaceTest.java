package io.granda.testkit.facade;

import io.granda.core.Granda;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing of Docker, JDBI, Helidon or any other library but slf4j may appear in granda-core's API, so that backends
 * and stores stay replaceable. Scans every compiled class of granda-core.
 */
class CoreApiSurfaceTest {

    private static final List<String> ALLOWED = List.of("java.", "io.granda.core.", "org.slf4j.");

    @Test
    void coreApiMentionsOnlyTheJdkCoreAndSlf4j() throws Exception {
        List<Class<?>> classes = coreClasses();
        assertTrue(classes.size() > 30, "expected the core's classes, found " + classes.size());
        assertTrue(classes.contains(Granda.class));

        Set<String> violations = new TreeSet<>();
        for (Class<?> c : classes) {
            if (!isExposed(c)) {
                continue;
            }
            String where = c.getName();
            check(c.getGenericSuperclass(), where + " extends", violations);
            for (Type i : c.getGenericInterfaces()) {
                check(i, where + " implements", violations);
            }
            for (TypeVariable<?> v : c.getTypeParameters()) {
                check(v, where + " <" + v.getName() + ">", violations);
            }
            if (c.isRecord()) {
                for (RecordComponent rc : c.getRecordComponents()) {
                    check(rc.getGenericType(), where + "." + rc.getName(), violations);
                }
            }
            for (Field f : c.getDeclaredFields()) {
                if (isExposed(f)) {
                    check(f.getGenericType(), where + "." + f.getName(), violations);
                }
            }
            for (Method m : c.getDeclaredMethods()) {
                if (isExposed(m) && !m.isSynthetic() && !m.isBridge()) {
                    checkExecutable(m, where + "." + m.getName() + "()", violations);
                    check(m.getGenericReturnType(), where + "." + m.getName() + "() returns", violations);
                }
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (isExposed(k) && !k.isSynthetic()) {
                    checkExecutable(k, where + ".<init>", violations);
                }
            }
        }
        assertTrue(violations.isEmpty(), "foreign types in granda-core's API:\n  " + String.join("\n  ", violations));
    }

    @Test
    void theScanCatchesAForeignType() {
        // The check itself must be able to fail: a JUnit type is foreign to core.
        TreeSet<String> violations = new TreeSet<>();
        check(Test.class, "probe", violations);
        check(List.class, "probe", violations);
        assertTrue(violations.size() == 1 && violations.first().contains("org.junit"), violations.toString());
    }

    private static void checkExecutable(Executable e, String where, Set<String> violations) {
        for (Type p : e.getGenericParameterTypes()) {
            check(p, where + " parameter", violations);
        }
        for (Type x : e.getGenericExceptionTypes()) {
            check(x, where + " throws", violations);
        }
        for (TypeVariable<?> v : e.getTypeParameters()) {
            check(v, where + " <" + v.getName() + ">", violations);
        }
    }

    /** Public or protected, in a class that is itself reachable from outside (public, and public all the way out). */
    private static boolean isExposed(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
            int mods = k.getModifiers();
            boolean visible = Modifier.isPublic(mods) || (k != c && Modifier.isProtected(mods))
                    || (k == c && k.getDeclaringClass() != null && Modifier.isProtected(mods));
            if (!visible) {
                return false;
            }
        }
        return !c.isSynthetic() && !c.isAnonymousClass() && !c.isLocalClass();
    }

    private static boolean isExposed(Member m) {
        int mods = m.getModifiers();
        return Modifier.isPublic(mods) || Modifier.isProtected(mods);
    }

    private static void check(Type type, String where, Set<String> violations) {
        check(type, where, violations, new ArrayList<>());
    }

    private static void check(Type type, String where, Set<String> violations, List<Type> seen) {
        if (type == null || seen.contains(type)) {
            return;
        }
        seen.add(type);
        switch (type) {
            case Class<?> c -> {
                Class<?> base = c;
                while (base.isArray()) {
                    base = base.getComponentType();
                }
                if (!base.isPrimitive() && ALLOWED.stream().noneMatch(base.getName()::startsWith)) {
                    violations.add(where + ": " + base.getName());
                }
            }
            case ParameterizedType p -> {
                check(p.getRawType(), where, violations, seen);
                check(p.getOwnerType(), where, violations, seen);
                for (Type a : p.getActualTypeArguments()) {
                    check(a, where, violations, seen);
                }
            }
            case GenericArrayType g -> check(g.getGenericComponentType(), where, violations, seen);
            case WildcardType w -> {
                for (Type b : w.getUpperBounds()) {
                    check(b, where, violations, seen);
                }
                for (Type b : w.getLowerBounds()) {
                    check(b, where, violations, seen);
                }
            }
            case TypeVariable<?> v -> {
                for (Type b : v.getBounds()) {
                    check(b, where, violations, seen);
                }
            }
            default -> violations.add(where + ": unknown kind of type " + type);
        }
    }

    /** Every class file under io/granda/core in the directory or jar that {@link Granda} was loaded from. */
    private static List<Class<?>> coreClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Path location = Path.of(Granda.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(location)) {
            collect(location, names);
        } else {
            try (FileSystem jar = FileSystems.newFileSystem(location)) {
                collect(jar.getPath("/"), names);
            }
        }
        ClassLoader loader = Granda.class.getClassLoader();
        List<Class<?>> classes = new ArrayList<>();
        for (String name : names) {
            classes.add(Class.forName(name, false, loader));
        }
        return classes;
    }

    private static void collect(Path root, List<String> names) throws IOException {
        Path core = root.resolve("io/granda/core");
        try (Stream<Path> files = Files.walk(core)) {
            files.filter(p -> p.toString().endsWith(".class"))
                    .map(p -> root.relativize(p).toString())
                    .filter(n -> !n.endsWith("module-info.class") && !n.endsWith("package-info.class"))
                    .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.').replace('\\', '.'))
                    .forEach(names::add);
        }
    }
}
