import { registry } from "@web/core/registry";

/**
 * The portal's new request form shows the guidance of the chosen request type only. Started by
 * tests/test_workflow_tour.py as a portal user.
 */
registry.category("web_tour.tours").add("cabinet_portal_guidance_tour", {
    url: "/my/tickets/new",
    steps: () => [
        {
            content: "The first type is chosen: its guidance shows, the other's is hidden",
            trigger: ".o_cabinet_guidance:has(div.d-none:contains(Say which date)) div:contains(Attach the plans)",
        },
        {
            content: "Choose another type",
            trigger: "select[name=category_id]",
            run: "selectByLabel Deadline",
        },
        {
            content: "Its guidance replaces the first one",
            trigger: ".o_cabinet_guidance:has(div.d-none:contains(Attach the plans)) div:contains(Say which date)",
        },
    ],
});
