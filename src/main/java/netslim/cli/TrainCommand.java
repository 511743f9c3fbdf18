package netslim.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code train}: SGD training of a zoo model (or a model file) with per-epoch checkpoints and --resume. */
@Command(name = "train", description = "Train a model; checkpoints every epoch (and on Ctrl-C) into --out.",
        footer = {"", "--seed seeds the zoo initialisation, the data order, the augmentation and dropout. A run "
                + "stopped by Ctrl-C or a crash continues with --resume and ends with the same weights as an "
                + "uninterrupted one (CPU, same --threads)."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOptions device;

    @Mixin
    TrainingOptions training;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return new TrainingRun(TrainingRun.Kind.TRAIN, model, device, training, spec).execute();
    }
}
