package netslim.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import netslim.NetslimException;
import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.nn.Layer;

class LayerCodecTest {

    /** One or more instances of every layer kind, with non-default values in every field. */
    static final List<Layer> SAMPLES = List.of(
            new Layer.Conv2d(new ConvSpec(6, 9, 3, 5, 2, 1, 1, 2, 3, 1, 3), true),
            new Layer.Conv2d(ConvSpec.of(3, 4, 1, 1, 0), false),
            new Layer.BatchNorm2d(7, 1e-3f, 0.01f),
            new Layer.Relu(),
            new Layer.Clip(0f, 6f),
            new Layer.Clip(Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY),
            new Layer.MaxPool2d(new PoolSpec(3, 2, 2, 1, 1, 0, true, true)),
            new Layer.AvgPool2d(new PoolSpec(2, 2, 2, 2, 1, 1, false, false)),
            new Layer.GlobalAvgPool(),
            new Layer.Linear(12, 5, true),
            new Layer.Linear(3, 2, false),
            new Layer.Dropout(0.3f),
            new Layer.Flatten(),
            new Layer.Concat(),
            new Layer.Add(),
            new Layer.Identity());

    @Test
    void coversEveryPermittedLayerKind() {
        Set<Class<?>> permitted = Set.of(Layer.class.getPermittedSubclasses());
        assertEquals(permitted, LayerCodec.coveredTypes(), "LayerCodec must handle every Layer kind");
        Set<Class<?>> sampled = new HashSet<>();
        SAMPLES.forEach(l -> sampled.add(l.getClass()));
        assertEquals(permitted, sampled, "SAMPLES must hold every Layer kind");
    }

    @Test
    void everySampleRoundTripsThroughJsonText() {
        for (Layer l : SAMPLES) {
            String kind = LayerCodec.kindName(l);
            assertEquals(l.kind(), kind);
            String text = LayerCodec.encode(l).toString();
            Layer back = LayerCodec.decode(kind, JsonParser.parseString(text).getAsJsonObject(), "test");
            assertEquals(l, back, text);
        }
    }

    @Test
    void badAttributesAreNamed() {
        JsonObject conv = LayerCodec.encode(SAMPLES.get(0));
        conv.add("stride", JsonFields.intArray(1, 2, 3));
        assertMessage("Conv2d", conv, "stride");
        JsonObject lin = LayerCodec.encode(new Layer.Linear(3, 2, true));
        lin.addProperty("in_features", 2.5);
        assertMessage("Linear", lin, "in_features");
        lin.addProperty("in_features", -1);
        assertMessage("Linear", lin, "in_features");
        JsonObject drop = LayerCodec.encode(new Layer.Dropout(0.5f));
        drop.addProperty("p", 1.5);
        assertMessage("Dropout", drop, "Dropout");
        drop.addProperty("p", "half");
        assertMessage("Dropout", drop, "p");
        JsonObject pool = LayerCodec.encode(new Layer.MaxPool2d(PoolSpec.of(2, 2, 0, false)));
        pool.add("padding", JsonFields.intArray(2, 2));
        assertMessage("MaxPool2d", pool, "MaxPool2d");
        assertMessage("Softmax", new JsonObject(), "unknown layer kind Softmax");
    }

    private static void assertMessage(String kind, JsonObject attrs, String fragment) {
        NetslimException e = assertThrows(NetslimException.class, () -> LayerCodec.decode(kind, attrs, "m.nsm: node n"));
        assertTrue(e.getMessage().startsWith("m.nsm: node n") && e.getMessage().contains(fragment), e.getMessage());
    }
}
