package kmsemu.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;

/** Saved variables (${NAME}) and $-transforms in a step's request and expectations. */
final class Template {
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)}");

    private Template() {}

    /** A copy of node with every ${NAME} replaced and every transform computed. */
    static JsonNode expand(JsonNode node, Map<String, JsonNode> vars) throws GeneralSecurityException {
        if (node.isTextual()) return substitute(node.asText(), vars);
        if (node.isArray()) {
            var out = Json.MAPPER.createArrayNode();
            for (JsonNode e : node) out.add(expand(e, vars));
            return out;
        }
        if (!node.isObject()) return node;
        ObjectNode out = Json.MAPPER.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            out.set(f.getKey(), expand(f.getValue(), vars));
        }
        return isTransform(out) ? transform(out) : out;
    }

    private static JsonNode substitute(String text, Map<String, JsonNode> vars) {
        Matcher whole = VARIABLE.matcher(text);
        if (whole.matches()) return lookup(whole.group(1), vars);
        return new TextNode(VARIABLE.matcher(text).replaceAll(m -> {
            JsonNode v = lookup(m.group(1), vars);
            return Matcher.quoteReplacement(v.isTextual() ? v.asText() : v.toString());
        }));
    }

    private static JsonNode lookup(String name, Map<String, JsonNode> vars) {
        JsonNode v = vars.get(name);
        if (v == null) throw new IllegalArgumentException("no saved variable " + name);
        return v;
    }

    private static boolean isTransform(JsonNode node) {
        return node.size() == 1 && node.fieldNames().next().startsWith("$");
    }

    private static JsonNode transform(JsonNode node) throws GeneralSecurityException {
        String name = node.fieldNames().next();
        if (!name.equals("$rsa_oaep")) throw new IllegalArgumentException("unknown transform " + name);
        JsonNode arg = node.get(name);
        byte[] data = Base64.getDecoder().decode(arg.path("data").asText());
        byte[] sealed = rsaOaep(publicKey(arg.path("key").asText()), arg.path("hash").asText(), data);
        return new TextNode(Base64.getEncoder().encodeToString(sealed));
    }

    /** RSA-OAEP with MGF1 over the same hash as the label hash ("SHA1" or "SHA256"). */
    private static byte[] rsaOaep(PublicKey key, String hash, byte[] data) throws GeneralSecurityException {
        String jce = switch (hash) {
            case "SHA1" -> "SHA-1";
            case "SHA256" -> "SHA-256";
            default -> throw new IllegalArgumentException("unknown OAEP hash " + hash);
        };
        Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
        cipher.init(Cipher.ENCRYPT_MODE, key,
                new OAEPParameterSpec(jce, "MGF1", new MGF1ParameterSpec(jce), PSource.PSpecified.DEFAULT));
        return cipher.doFinal(data);
    }

    /** Base64 DER SubjectPublicKeyInfo, bare or as PEM text. */
    private static PublicKey publicKey(String text) throws GeneralSecurityException {
        String base64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }
}
