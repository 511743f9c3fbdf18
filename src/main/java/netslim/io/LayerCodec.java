package netslim.io;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.google.gson.JsonObject;

import netslim.NetslimException;
import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.nn.Layer;

/**
 * Converts every {@link Layer} kind to and from its graph.json form: the kind name plus an {@code attrs} object with
 * PyTorch's argument names (conv: in_channels, out_channels, kernel_size [kh, kw], stride, padding, dilation, groups,
 * bias; pools: kernel_size, stride, padding, ceil_mode, count_include_pad; ...). One table entry per kind;
 * {@code LayerCodecTest} fails when the sealed {@link Layer} interface gains a kind this table lacks.
 */
public final class LayerCodec {

    private record Kind<L extends Layer>(String name, Class<L> type, Function<L, JsonObject> encoder,
                                         Function<JsonFields, L> decoder) {
        JsonObject encode(Layer l) {
            return encoder.apply(type.cast(l));
        }
    }

    private static final List<Kind<?>> KINDS = List.of(
            new Kind<>("Conv2d", Layer.Conv2d.class, LayerCodec::encodeConv, LayerCodec::decodeConv),
            new Kind<>("BatchNorm2d", Layer.BatchNorm2d.class, LayerCodec::encodeBatchNorm, LayerCodec::decodeBatchNorm),
            new Kind<>("ReLU", Layer.Relu.class, l -> new JsonObject(), a -> new Layer.Relu()),
            new Kind<>("Clip", Layer.Clip.class, LayerCodec::encodeClip,
                    a -> new Layer.Clip(a.real("min"), a.real("max"))),
            new Kind<>("MaxPool2d", Layer.MaxPool2d.class, l -> encodePool(l.spec()),
                    a -> new Layer.MaxPool2d(decodePool(a))),
            new Kind<>("AvgPool2d", Layer.AvgPool2d.class, l -> encodePool(l.spec()),
                    a -> new Layer.AvgPool2d(decodePool(a))),
            new Kind<>("GlobalAvgPool", Layer.GlobalAvgPool.class, l -> new JsonObject(), a -> new Layer.GlobalAvgPool()),
            new Kind<>("Linear", Layer.Linear.class, LayerCodec::encodeLinear,
                    LayerCodec::decodeLinear),
            new Kind<>("Dropout", Layer.Dropout.class, LayerCodec::encodeDropout, a -> new Layer.Dropout(a.real("p"))),
            new Kind<>("Flatten", Layer.Flatten.class, l -> new JsonObject(), a -> new Layer.Flatten()),
            new Kind<>("Concat", Layer.Concat.class, l -> new JsonObject(), a -> new Layer.Concat()),
            new Kind<>("Add", Layer.Add.class, l -> new JsonObject(), a -> new Layer.Add()),
            new Kind<>("Identity", Layer.Identity.class, l -> new JsonObject(), a -> new Layer.Identity()));

    private static final Map<String, Kind<?>> BY_NAME = KINDS.stream()
            .collect(Collectors.toMap(Kind::name, k -> k, (a, b) -> a, LinkedHashMap::new));

    private LayerCodec() {
    }

    /** The layer classes this codec handles (the test compares it with Layer's permitted subclasses). */
    public static Set<Class<?>> coveredTypes() {
        return KINDS.stream().map(Kind::type).collect(Collectors.toSet());
    }

    /** The kind name written to graph.json (the same as {@link Layer#kind()}). */
    public static String kindName(Layer layer) {
        return kindOf(layer).name();
    }

    public static JsonObject encode(Layer layer) {
        return kindOf(layer).encode(layer);
    }

    /**
     * Rebuilds a layer from its kind and attrs; {@code where} (e.g. "model.nsm: node conv1") starts every error
     * message. Unknown kinds, missing, extra or ill-typed attributes and invalid geometry are all errors.
     */
    public static Layer decode(String kind, JsonObject attrs, String where) {
        Kind<?> k = BY_NAME.get(kind);
        if (k == null) throw new NetslimException(where + ": unknown layer kind " + kind);
        JsonFields a = new JsonFields(attrs, where + " (" + kind + ") attrs");
        Layer layer;
        try {
            layer = k.decoder().apply(a);
        } catch (IllegalArgumentException e) {
            throw new NetslimException(a.where() + ": " + e.getMessage(), e);
        } catch (NetslimException e) {
            throw e.getMessage().startsWith(where) ? e : new NetslimException(a.where() + ": " + e.getMessage(), e);
        }
        a.finish();
        return layer;
    }

    private static Kind<?> kindOf(Layer layer) {
        for (Kind<?> k : KINDS) if (k.type().isInstance(layer)) return k;
        throw new IllegalStateException("LayerCodec has no entry for layer kind " + layer.getClass().getName());
    }

    private static JsonObject encodeConv(Layer.Conv2d c) {
        ConvSpec s = c.spec();
        JsonObject o = new JsonObject();
        o.addProperty("in_channels", s.inChannels());
        o.addProperty("out_channels", s.outChannels());
        o.add("kernel_size", JsonFields.intArray(s.kh(), s.kw()));
        o.add("stride", JsonFields.intArray(s.strideH(), s.strideW()));
        o.add("padding", JsonFields.intArray(s.padH(), s.padW()));
        o.add("dilation", JsonFields.intArray(s.dilationH(), s.dilationW()));
        o.addProperty("groups", s.groups());
        o.addProperty("bias", c.bias());
        return o;
    }

    private static Layer.Conv2d decodeConv(JsonFields a) {
        int[] k = a.ints("kernel_size", 2), st = a.ints("stride", 2), p = a.ints("padding", 2), d = a.ints("dilation", 2);
        ConvSpec spec = new ConvSpec(a.integer("in_channels"), a.integer("out_channels"), k[0], k[1], st[0], st[1],
                p[0], p[1], d[0], d[1], a.integer("groups"));
        return new Layer.Conv2d(spec, a.bool("bias"));
    }

    private static JsonObject encodeBatchNorm(Layer.BatchNorm2d b) {
        JsonObject o = new JsonObject();
        o.addProperty("num_features", b.channels());
        o.add("eps", JsonFields.num(b.eps()));
        o.add("momentum", JsonFields.num(b.momentum()));
        return o;
    }

    private static Layer.BatchNorm2d decodeBatchNorm(JsonFields a) {
        int c = a.integer("num_features");
        if (c <= 0) throw a.error("num_features", "must be positive");
        float eps = a.real("eps"), momentum = a.real("momentum");
        if (!(eps >= 0 && eps < Float.POSITIVE_INFINITY)) throw a.error("eps", "must be finite and non-negative");
        if (!Float.isFinite(momentum)) throw a.error("momentum", "must be finite");
        return new Layer.BatchNorm2d(c, eps, momentum);
    }

    private static JsonObject encodeClip(Layer.Clip c) {
        JsonObject o = new JsonObject();
        o.add("min", JsonFields.num(c.lo()));
        o.add("max", JsonFields.num(c.hi()));
        return o;
    }

    /** count_include_pad is written for max pools too (where it has no effect) so that specs round-trip exactly. */
    private static JsonObject encodePool(PoolSpec s) {
        JsonObject o = new JsonObject();
        o.add("kernel_size", JsonFields.intArray(s.kh(), s.kw()));
        o.add("stride", JsonFields.intArray(s.strideH(), s.strideW()));
        o.add("padding", JsonFields.intArray(s.padH(), s.padW()));
        o.addProperty("ceil_mode", s.ceilMode());
        o.addProperty("count_include_pad", s.countIncludePad());
        return o;
    }

    private static PoolSpec decodePool(JsonFields a) {
        int[] k = a.ints("kernel_size", 2), st = a.ints("stride", 2), p = a.ints("padding", 2);
        return new PoolSpec(k[0], k[1], st[0], st[1], p[0], p[1], a.bool("ceil_mode"), a.bool("count_include_pad"));
    }

    private static JsonObject encodeLinear(Layer.Linear l) {
        JsonObject o = new JsonObject();
        o.addProperty("in_features", l.in());
        o.addProperty("out_features", l.out());
        o.addProperty("bias", l.bias());
        return o;
    }

    private static Layer.Linear decodeLinear(JsonFields a) {
        int in = a.integer("in_features"), out = a.integer("out_features");
        if (in <= 0 || out <= 0) throw a.error("in_features/out_features", "must be positive, got " + in + ", " + out);
        return new Layer.Linear(in, out, a.bool("bias"));
    }

    private static JsonObject encodeDropout(Layer.Dropout d) {
        JsonObject o = new JsonObject();
        o.add("p", JsonFields.num(d.p()));
        return o;
    }
}
