package netslim.prune;

import java.util.LinkedHashMap;
import java.util.Map;

import netslim.nn.Graph;
import netslim.prune.ChannelGroups.Group;
import netslim.prune.ChannelGroups.Member;
import netslim.prune.ChannelGroups.Role;

/** L1 norm of a channel's filters (Li et al. 2017): Σ|W_j| over every conv producing channel j of the group. */
final class L1Importance implements Importance {
    @Override
    public String name() {
        return Criterion.L1.cliName();
    }

    @Override
    public Map<Integer, double[]> scores(Graph graph, ChannelGroups groups) {
        Map<Integer, double[]> out = new LinkedHashMap<>();
        for (Group g : groups.prunable()) {
            double[] s = new double[g.width()];
            for (Member m : g.members()) {
                if (m.role() != Role.PRODUCER && m.role() != Role.DEPTHWISE) continue;
                var w = graph.params().get(m.node() + ".weight");
                for (int i = 0; i < m.channels().length; i++) s[m.indices()[i]] += Slices.rowAbsSum(w, m.channels()[i]);
            }
            out.put(g.id(), s);
        }
        return out;
    }
}
