import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("cabinet_helpdesk_staff_request_tour", {
    url: "/odoo/action-cabinet_helpdesk.cabinet_ticket_action_my_requests",
    steps: () => [
        {
            content: "File a new request",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Choose the request type",
            trigger: ".o_field_widget[name=category_id] input",
            run: "edit IT Incident",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(IT Incident)",
            run: "click",
        },
        {
            content: "The type's guidance says what to give",
            trigger: ".o_cabinet_guidance:contains(exact error message)",
        },
        {
            content: "Write the subject",
            trigger: ".o_field_widget[name=name] input",
            run: "edit The printer on the second floor is jammed",
        },
        {
            content: "File it",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The request got its number",
            trigger: ".o_field_widget[name=number] span:contains(T)",
        },
        {
            content: "The status shows the incident's workflow, nothing about a party",
            trigger: ".o_statusbar_status:not(:contains(Waiting)) button.o_arrow_button_current:contains(New)",
        },
        {
            content: "Back to my requests",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "The request is listed with its stage",
            trigger: ".o_data_row:contains(The printer on the second floor is jammed):contains(New)",
        },
    ],
});
