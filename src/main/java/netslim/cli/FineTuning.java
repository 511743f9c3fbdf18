package netslim.cli;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.data.Loader;
import netslim.prune.FineTuner;

/** The {@link FineTuner} the prune command uses between rounds. */
final class FineTuning {
    private FineTuning() {
    }

    static FineTuner create(int epochs, Loader loader, Backend backend) {
        if (epochs == 0) return FineTuner.NONE;
        throw new NetslimException("--finetune-epochs needs the trainer (netslim.train), which is not in this build; "
                + "use --finetune-epochs 0");
    }
}
