package netslim.backend.cpu;

/** Lets tests outside this package turn the stacked sibling product off and on (-Dnetslim.train.stackedSiblings). */
public final class SiblingPointwiseSwitch {
    private SiblingPointwiseSwitch() {
    }

    public static boolean get() {
        return SiblingPointwise.ENABLED;
    }

    public static void set(boolean on) {
        SiblingPointwise.ENABLED = on;
    }
}
